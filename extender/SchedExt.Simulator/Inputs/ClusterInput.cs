using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SchedExt.Extender;
using SchedExt.Extender.Sources;
using SchedExt.Extender.State;
using SchedExt.Topology.Shapes;

namespace SchedExt.Simulator.Inputs;

/// <summary>
/// The cluster a simulation starts from: its GPU nodes (sorted by name, the tie-break order of every policy) and the
/// GPUs already held by pods in the snapshot, which stay held for the whole simulation (their end is unknown).
/// </summary>
internal sealed class ClusterInput
{
    private ClusterInput(IReadOnlyList<NodeState> nodes, IReadOnlyList<PodAllocation> pods, ShapeCatalog catalog, string description)
    {
        Nodes = nodes;
        Pods = pods;
        Catalog = catalog;
        Description = description;
    }

    /// <summary>GPU nodes in ordinal name order, with the GPUs snapshot pods hold.</summary>
    public IReadOnlyList<NodeState> Nodes { get; }

    /// <summary>Snapshot pods holding GPUs on known nodes (their placement groups count for locality).</summary>
    public IReadOnlyList<PodAllocation> Pods { get; }

    public ShapeCatalog Catalog { get; }

    /// <summary>Where the cluster came from, for the report.</summary>
    public string Description { get; }

    public int TotalGpus => Nodes.Sum(n => n.Shape.GpuCount);

    /// <summary>Builds the cluster of a compact spec (see <see cref="ClusterSpec"/>); no GPU is in use.</summary>
    public static ClusterInput FromSpec(string spec)
    {
        var catalog = new ShapeCatalog();
        var nodes = ClusterSpec.Parse(spec, catalog).OrderBy(n => n.Name, StringComparer.Ordinal).Select(n => new NodeState(n, 0)).ToList();
        return new ClusterInput(nodes, [], catalog, spec);
    }

    /// <summary>
    /// Reads a snapshot file of Nodes and Pods through the extender's own reader path (<see cref="SnapshotFile"/>,
    /// <see cref="NodeReader"/>, <see cref="PodReader"/> into a <see cref="ClusterState"/>), so a node counts and is
    /// shaped exactly as the extender would see it. Malformed files throw <see cref="InvalidDataException"/> naming the line.
    /// </summary>
    public static ClusterInput FromSnapshotFile(string path, ExtenderOptions? options = null)
    {
        var objects = SnapshotFile.Load(path, out _);
        return FromObjects(objects, path, options);
    }

    /// <summary>As <see cref="FromSnapshotFile"/>, from objects already read.</summary>
    public static ClusterInput FromObjects(ClusterObjects objects, string description, ExtenderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(objects);
        var catalog = new ShapeCatalog();
        var state = new ClusterState(catalog, TimeProvider.System);
        var nodeReader = new NodeReader(catalog, Options.Create(options ?? new ExtenderOptions()), NullLogger<NodeReader>.Instance);
        objects.ReplaceInto(state, nodeReader, new PodReader(NullLogger<PodReader>.Instance));
        var snapshot = state.Current;
        var nodes = snapshot.Nodes.Values.OrderBy(n => n.Name, StringComparer.Ordinal).ToList();
        var pods = snapshot.Allocations.Values
            .Where(p => snapshot.FindNode(p.Node) is not null)
            .OrderBy(p => p.Uid, StringComparer.Ordinal)
            .ToList();
        return new ClusterInput(nodes, pods, catalog, description);
    }
}
