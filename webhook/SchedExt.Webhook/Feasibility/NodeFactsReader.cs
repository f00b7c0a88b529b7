using k8s.Models;
using SchedExt.Topology.Requests;

namespace SchedExt.Webhook.Feasibility;

/// <summary>Extracts <see cref="NodeFacts"/> and namespace labels from KubernetesClient model objects (watch events and snapshot files).</summary>
internal static class NodeFactsReader
{
    public static NodeFacts FromNode(V1Node node, string resourceName)
    {
        ArgumentNullException.ThrowIfNull(node);
        var gpus = 0;
        if (node.Status?.Allocatable is { } allocatable && allocatable.TryGetValue(resourceName, out var quantity) && quantity is not null)
        {
            try
            {
                gpus = (int)Math.Clamp(quantity.ToInt64(), 0, int.MaxValue);
            }
            catch (Exception e) when (e is FormatException or OverflowException)
            {
                // Not a count any node has (e.g. "1e100"): the node offers no GPUs we can reason about.
                gpus = 0;
            }
        }

        string? topology = null;
        node.Metadata?.Annotations?.TryGetValue(SchedExtKeys.Topology, out topology);
        var machine = MachineKind.Unknown;
        if (node.Metadata?.Labels is { } labels && labels.TryGetValue(SchedExtKeys.Machine, out var label)
            && !SchedExtKeys.TryParseMachineKind(label, out machine))
        {
            machine = MachineKind.Unknown;
        }

        string? product = null;
        string? memory = null;
        node.Metadata?.Labels?.TryGetValue(SchedExtKeys.GpuProductLabel, out product);
        node.Metadata?.Labels?.TryGetValue(SchedExtKeys.GpuMemoryLabel, out memory);
        return new NodeFacts(
            node.Metadata?.Name ?? string.Empty, string.IsNullOrWhiteSpace(topology) ? null : topology, gpus, machine, product, SchedExtKeys.ParseGpuMemoryLabel(memory));
    }

    public static IReadOnlyDictionary<string, string> LabelsOf(V1Namespace ns) =>
        ns?.Metadata?.Labels is { } labels ? new Dictionary<string, string>(labels, StringComparer.Ordinal) : new Dictionary<string, string>();
}
