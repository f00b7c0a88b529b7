using System.Collections.Concurrent;
using k8s.Models;
using Microsoft.Extensions.Options;
using SchedExt.Extender.State;
using SchedExt.Topology.Annotation;
using SchedExt.Topology.Model;
using SchedExt.Topology.Requests;
using SchedExt.Topology.Shapes;

namespace SchedExt.Extender.Sources;

/// <summary>
/// Turns a Kubernetes Node into the extender's <see cref="NodeInfo"/>: GPU count from allocatable, wiring from the
/// <c>schedext.io/topology</c> annotation, machine kind from the explicit label or the configured rules, and the
/// rack/block labels. Thread-safe; one instance serves every source.
/// </summary>
internal sealed class NodeReader : INodeInfoReader
{
    private readonly ShapeCatalog _catalog;
    private readonly ILogger<NodeReader> _logger;
    private readonly string _gpuResource;
    private readonly string _rackLabel;
    private readonly string _blockLabel;
    private readonly (string Label, string? Value, MachineKind Kind)[] _rules;

    // PERF: keyed by node name and compared by annotation text, so a heartbeat or label update of a node re-uses its
    // parsed topology and interned shape instead of parsing a few KiB of JSON again; bounded by the node count.
    private readonly ConcurrentDictionary<string, ParsedTopology> _parsed = new(StringComparer.Ordinal);

    public NodeReader(ShapeCatalog catalog, IOptions<ExtenderOptions> options, ILogger<NodeReader> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _catalog = catalog;
        _logger = logger;
        var o = options.Value;
        _gpuResource = o.GpuResourceName;
        _rackLabel = o.RackLabel;
        _blockLabel = o.BlockLabel;
        var rules = new List<(string, string?, MachineKind)>();
        foreach (var rule in o.MachineRules)
        {
            if (SchedExtKeys.TryParseMachineKind(rule.Kind, out var kind))
            {
                rules.Add((rule.Label, rule.Value, kind));
            }
            else
            {
                logger.MachineRuleInvalid(rule.Label, rule.Kind);
            }
        }

        _rules = [.. rules];
    }

    /// <summary>The node's <see cref="NodeInfo"/>, or null when it has no managed GPUs (such nodes are not tracked).</summary>
    public NodeInfo? Read(V1Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var name = node.Metadata?.Name;
        if (string.IsNullOrEmpty(name) || !TryGetGpuCount(node, name, out var gpus) || gpus == 0)
        {
            return null;
        }

        var labels = node.Metadata!.Labels;
        var annotation = node.Metadata.Annotations?.ValueOf(SchedExtKeys.Topology);
        var product = labels?.ValueOf(SchedExtKeys.GpuProductLabel);
        var memory = SchedExtKeys.ParseGpuMemoryLabel(labels?.ValueOf(SchedExtKeys.GpuMemoryLabel));
        if (!_parsed.TryGetValue(name, out var parsed) || !parsed.Matches(annotation, gpus, product, memory))
        {
            parsed = Parse(name, annotation, gpus, product, memory);
            _parsed[name] = parsed;
        }

        return new NodeInfo(
            name,
            parsed.Topology,
            parsed.Shape,
            MachineOf(name, labels),
            labels?.ValueOf(_rackLabel),
            labels?.ValueOf(_blockLabel),
            parsed.Problem);
    }

    /// <summary>Drops what is cached for a node that was deleted.</summary>
    public void Forget(string nodeName) => _parsed.TryRemove(nodeName, out _);

    /// <summary>Drops what is cached for every node not in <paramref name="nodeNames"/> (after a full list).</summary>
    public void ForgetAllExcept(IReadOnlySet<string> nodeNames)
    {
        ArgumentNullException.ThrowIfNull(nodeNames);
        foreach (var name in _parsed.Keys)
        {
            if (!nodeNames.Contains(name))
            {
                _parsed.TryRemove(name, out _);
            }
        }
    }

    private bool TryGetGpuCount(V1Node node, string name, out int gpus)
    {
        gpus = 0;
        var quantity = node.Status?.Allocatable?.ValueOf(_gpuResource);
        if (quantity is null)
        {
            return true;
        }

        decimal value;
        try
        {
            value = quantity.ToDecimal();
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            // Not a number, or beyond what a decimal holds (e.g. "1e100"): reported below as an invalid count.
            value = -1;
        }

        if (value < 0 || value > NodeTopology.MaxGpus || decimal.Truncate(value) != value)
        {
            _logger.NodeGpuCountInvalid(name, _gpuResource, quantity.ToString());
            return false;
        }

        gpus = (int)value;
        return true;
    }

    private ParsedTopology Parse(string name, string? annotation, int gpus, string? product, int memory)
    {
        NodeTopology topology;
        string? problem = null;
        if (annotation is null)
        {
            topology = NodeTopology.Unknown(gpus, product, memory);
            problem = $"no {SchedExtKeys.Topology} annotation";
        }
        else
        {
            try
            {
                topology = TopologyAnnotation.Parse(annotation);
                if (topology.GpuCount != gpus)
                {
                    problem = $"annotation describes {topology.GpuCount} GPUs but allocatable {_gpuResource} is {gpus}";
                    topology = NodeTopology.Unknown(gpus, product, memory);
                }
                else
                {
                    topology = topology.WithGpuDefaults(product, memory);
                }
            }
            catch (TopologyFormatException e)
            {
                problem = "malformed: " + e.Message;
                topology = NodeTopology.Unknown(gpus, product, memory);
            }
        }

        // A node without the annotation is normal before the node agent has run; only a bad annotation is worth a warning.
        if (problem is not null && annotation is not null)
        {
            _logger.NodeTopologyProblem(name, problem, gpus);
        }

        return new ParsedTopology(annotation, gpus, product, memory, topology, _catalog.GetOrAdd(topology), problem);
    }

    private MachineKind MachineOf(string name, IDictionary<string, string>? labels)
    {
        if (labels is null)
        {
            return MachineKind.Unknown;
        }

        if (labels.TryGetValue(SchedExtKeys.Machine, out var explicitKind))
        {
            if (SchedExtKeys.TryParseMachineKind(explicitKind, out var kind))
            {
                return kind;
            }

            _logger.NodeMachineLabelInvalid(name, explicitKind);
        }

        foreach (var (label, value, kind) in _rules)
        {
            if (labels.TryGetValue(label, out var actual) && (value is null || string.Equals(value, actual, StringComparison.Ordinal)))
            {
                return kind;
            }
        }

        return MachineKind.Unknown;
    }

    private sealed record ParsedTopology(string? Annotation, int GpuCount, string? Product, int MemoryMiB, NodeTopology Topology, NodeShape Shape, string? Problem)
    {
        public bool Matches(string? annotation, int gpuCount, string? product, int memoryMiB) =>
            GpuCount == gpuCount && MemoryMiB == memoryMiB && string.Equals(Annotation, annotation, StringComparison.Ordinal) && string.Equals(Product, product, StringComparison.Ordinal);
    }
}
