using SchedExt.Extender.State;
using SchedExt.Topology.Search;

namespace SchedExt.Extender.Scheduling;

/// <summary>
/// The one place where a pod's request meets a node of a snapshot: used by filter, prioritize, bind and preempt, and by
/// <c>schedext simulate</c>, so what is simulated is exactly what is served.
/// </summary>
internal sealed class PlacementPlanner(PlacementEngine engine)
{
    public PlacementEngine Engine { get; } = engine;

    /// <summary>Evaluates <paramref name="request"/> on <paramref name="node"/> with <paramref name="unavailable"/> GPUs also taken (reservations, exclusions).</summary>
    public NodeVerdict Evaluate(CompiledRequest request, NodeState node, ClusterSnapshot snapshot, string? placementGroup, ulong unavailable = 0) =>
        Evaluate(request, node, snapshot.Group(placementGroup), unavailable);

    /// <summary>
    /// As above with the placement group already resolved (<see cref="ClusterSnapshot.Group"/>): filter and prioritize
    /// resolve it once per request instead of once per candidate.
    /// </summary>
    public NodeVerdict Evaluate(CompiledRequest request, NodeState node, GroupPlacement? group, ulong unavailable = 0) =>
        EvaluateWithFree(request, node, group, node.FreeGpus & ~unavailable);

    /// <summary>
    /// Evaluates on the node at <paramref name="position"/> of <paramref name="snapshot"/>'s name index (see
    /// <see cref="ClusterSnapshot.IndexOf"/>): filter's and prioritize's per-candidate path, reading the snapshot's
    /// per-position arrays, and the node's rack and block only when the pod's placement group has pods placed.
    /// </summary>
    public NodeVerdict Evaluate(CompiledRequest request, ClusterSnapshot snapshot, int position, GroupPlacement? group, ulong unavailable = 0)
    {
        ref readonly var node = ref snapshot.FactsAt(position);
        var context = new NodeContext(node.Machine);
        if (group is not null)
        {
            var info = snapshot.NodeAt(position).Info;
            var (placed, sameRack, sameBlock) = GroupPlacement.Locality(group, info.Rack, info.Block);
            context = new NodeContext(node.Machine, placed, sameRack, sameBlock);
        }

        return Engine.Evaluate(request, node.Shape, node.Free & ~unavailable, context);
    }

    /// <summary>Evaluates against an explicit free mask (preemption: "what if these victims were gone").</summary>
    public NodeVerdict EvaluateWithFree(CompiledRequest request, NodeState node, ClusterSnapshot snapshot, string? placementGroup, ulong free) =>
        EvaluateWithFree(request, node, snapshot.Group(placementGroup), free);

    private NodeVerdict EvaluateWithFree(CompiledRequest request, NodeState node, GroupPlacement? group, ulong free)
    {
        var info = node.Info;
        var (placed, sameRack, sameBlock) = GroupPlacement.Locality(group, info.Rack, info.Block);
        return Engine.Evaluate(request, node.Shape, free, new NodeContext(info.Machine, placed, sameRack, sameBlock));
    }
}
