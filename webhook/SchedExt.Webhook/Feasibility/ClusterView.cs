using Microsoft.Extensions.Options;
using SchedExt.Topology.Annotation;
using SchedExt.Topology.Model;
using SchedExt.Topology.Shapes;
using SchedExt.Webhook.Diagnostics;
using SchedExt.Webhook.Hosting;

namespace SchedExt.Webhook.Feasibility;

/// <summary>Holds the current <see cref="ClusterSnapshot"/>; sources (snapshot file, API watch) publish, admission reads.</summary>
internal sealed class ClusterView(IOptions<WebhookOptions> options, ClusterAccess access, ShapeCatalog catalog, ILogger<ClusterView> logger, WebhookMetrics metrics)
{
    private volatile ClusterSnapshot _current = ClusterSnapshot.Unknown;

    public ClusterSnapshot Current => _current;

    /// <summary>What readiness still waits for, or null when no source is configured (nothing to wait for) or its nodes and
    /// namespaces have been read once. Namespace labels count: a namespace default chosen by <c>matchLabels</c> would
    /// otherwise be silently missed for pods admitted before they are known.</summary>
    public string? NotReadyReason =>
        !RequiresSync ? null
        : !_current.IsKnown ? "node shapes not synced yet"
        : !_current.NamespacesKnown ? "namespace labels not synced yet"
        : null;

    /// <summary>True when a snapshot file or a reachable API is configured: readiness then waits for its first publish.</summary>
    public bool RequiresSync { get; } =
        !string.IsNullOrWhiteSpace(options.Value.SnapshotFile) || (options.Value.WatchCluster && access.Available);

    /// <summary>Builds a snapshot from node facts and namespace labels and makes it current; <paramref name="namespacesKnown"/>
    /// is false when the namespaces have not been listed yet (the snapshot is then not ready).</summary>
    public ClusterSnapshot Publish(
        IEnumerable<NodeFacts> nodes, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> namespaceLabels, string source, bool namespacesKnown = true)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var groups = new Dictionary<(string Topology, int Gpus, Topology.Requests.MachineKind Machine, string Product, int Memory), (NodeShape Shape, int Nodes, string Example)>();
        foreach (var node in nodes)
        {
            if (node.AllocatableGpus <= 0 && node.TopologyAnnotation is null)
            {
                continue;
            }

            // Nodes with the same annotation text, GPU count, machine kind and GPU labels are one shape: parse once.
            var key = (node.TopologyAnnotation ?? string.Empty, node.AllocatableGpus, node.Machine, node.Product ?? string.Empty, node.GpuMemoryMiB);
            if (groups.TryGetValue(key, out var g))
            {
                groups[key] = (g.Shape, g.Nodes + 1, g.Example);
                continue;
            }

            groups[key] = (catalog.GetOrAdd(TopologyOf(node)), 1, node.Name);
        }

        var shapes = groups
            .Select(kv => new NodeShapeGroup(kv.Value.Shape, kv.Key.Machine, kv.Value.Nodes, kv.Value.Example))
            .Where(s => s.Shape.GpuCount > 0)
            .OrderByDescending(s => s.Shape.GpuCount)
            .ThenBy(s => s.ExampleNode, StringComparer.Ordinal)
            .ToArray();
        var snapshot = new ClusterSnapshot(shapes, namespaceLabels, known: true, source, namespacesKnown);
        _current = snapshot;
        metrics.NodeShapes(shapes.Length, snapshot.NodeCount);
        Log.ShapesUpdated(logger, source, shapes.Length, snapshot.NodeCount, namespaceLabels.Count);
        return snapshot;
    }

    private NodeTopology TopologyOf(NodeFacts node)
    {
        var gpus = Math.Clamp(node.AllocatableGpus, 0, NodeTopology.MaxGpus);
        if (node.TopologyAnnotation is null)
        {
            return NodeTopology.Unknown(gpus, node.Product, node.GpuMemoryMiB);
        }

        try
        {
            // As the extender reads it: the labels fill what the annotation leaves out, and an annotation that does not
            // describe the GPUs the node offers (e.g. MIG slices counted by the device plugin) is not used. A node that
            // offers none right now (device plugin restarting) keeps its annotation: admission stays lenient there.
            var topology = TopologyAnnotation.Parse(node.TopologyAnnotation);
            if (gpus > 0 && topology.GpuCount != gpus)
            {
                Log.BadTopology(logger, node.Name, $"annotation describes {topology.GpuCount} GPUs but the node offers {gpus}");
                return NodeTopology.Unknown(gpus, node.Product, node.GpuMemoryMiB);
            }

            return topology.WithGpuDefaults(node.Product, node.GpuMemoryMiB);
        }
        catch (Exception ex) when (ex is TopologyFormatException or FormatException or ArgumentException)
        {
            Log.BadTopology(logger, node.Name, ex.Message);
            return NodeTopology.Unknown(gpus, node.Product, node.GpuMemoryMiB);
        }
    }
}
