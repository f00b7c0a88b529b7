using k8s.Models;
using SchedExt.Extender.State;

namespace SchedExt.Extender.Sources;

/// <summary>A full set of Node and Pod objects (a snapshot file, the demo cluster) to be read into the cluster state at once.</summary>
internal sealed record ClusterObjects(IReadOnlyList<V1Node> Nodes, IReadOnlyList<V1Pod> Pods)
{
    /// <summary>Reads every object through the same readers as the API watch and replaces the state with the result.</summary>
    /// <returns>How many nodes with GPUs and pods holding GPUs were applied.</returns>
    public (int Nodes, int Pods) ReplaceInto(ClusterState state, NodeReader nodes, PodReader pods)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(pods);
        var nodeInfos = Nodes.Select(nodes.Read).OfType<NodeInfo>().ToList();
        var allocations = Pods.Select(pods.Read).OfType<PodAllocation>().ToList();
        nodes.ForgetAllExcept(nodeInfos.Select(n => n.Name).ToHashSet(StringComparer.Ordinal));
        var listed = Pods.Select(p => p.Metadata?.Uid).OfType<string>().ToHashSet(StringComparer.Ordinal);
        state.ReplaceAll(nodeInfos, allocations, listed);
        return (nodeInfos.Count, allocations.Count);
    }
}
