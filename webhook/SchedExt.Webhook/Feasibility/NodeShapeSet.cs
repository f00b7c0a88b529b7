using SchedExt.Topology.Shapes;
using SchedExt.Topology.Requests;

namespace SchedExt.Webhook.Feasibility;

/// <summary>What the webhook needs to know about one node: enough to tell its hardware shape.</summary>
/// <param name="Name">Node name.</param>
/// <param name="TopologyAnnotation">The <c>schedext.io/topology</c> annotation, or null.</param>
/// <param name="AllocatableGpus">Allocatable GPUs of the configured resource.</param>
/// <param name="Machine">From the <c>schedext.io/machine</c> node label.</param>
/// <param name="Product">GPU Feature Discovery's <c>nvidia.com/gpu.product</c> label: lets product globs match GPUs the annotation (if any) gives no product.</param>
/// <param name="GpuMemoryMiB">GPU Feature Discovery's <c>nvidia.com/gpu.memory</c> label (0 when absent): the same for memory minimums.</param>
internal sealed record NodeFacts(string Name, string? TopologyAnnotation, int AllocatableGpus, MachineKind Machine, string? Product = null, int GpuMemoryMiB = 0);

/// <summary>Nodes that share one hardware shape and machine kind: feasibility is decided once per group.</summary>
internal sealed record NodeShapeGroup(NodeShape Shape, MachineKind Machine, int Nodes, string ExampleNode);

/// <summary>An immutable view of the cluster for admission: the distinct node shapes and the namespace labels. Swapped whole; read without locks.</summary>
internal sealed class ClusterSnapshot
{
    public static ClusterSnapshot Unknown { get; } = new([], new Dictionary<string, IReadOnlyDictionary<string, string>>(), known: false, source: "none");

    public ClusterSnapshot(
        IReadOnlyList<NodeShapeGroup> shapes, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> namespaceLabels, bool known, string source, bool namespacesKnown = true)
    {
        Shapes = shapes;
        NamespaceLabels = namespaceLabels;
        IsKnown = known;
        NamespacesKnown = known && namespacesKnown;
        Source = source;
        NodeCount = shapes.Sum(s => s.Nodes);
    }

    /// <summary>Distinct GPU node shapes; empty when the cluster has no GPU node.</summary>
    public IReadOnlyList<NodeShapeGroup> Shapes { get; }

    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> NamespaceLabels { get; }

    /// <summary>False until a source (snapshot file or API list) has been read: then feasibility is skipped, not failed.</summary>
    public bool IsKnown { get; }

    /// <summary>False while the namespaces have not been listed yet (the nodes may have been): their labels are then missing, not empty.</summary>
    public bool NamespacesKnown { get; }

    public string Source { get; }

    public int NodeCount { get; }

    /// <summary>Labels of namespace <paramref name="ns"/>, or null when unknown.</summary>
    public IReadOnlyDictionary<string, string>? LabelsOf(string ns) => NamespaceLabels.TryGetValue(ns, out var labels) ? labels : null;
}
