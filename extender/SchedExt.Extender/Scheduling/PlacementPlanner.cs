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
    public NodeVerdict Evaluate(CompiledRequest request, NodeState node, ClusterSnapshot snapshot, string? placementGroup, ulong unavailable = 0)
    {
        var info = node.Info;
        var (placed, sameRack, sameBlock) = snapshot.GroupLocality(placementGroup, info.Rack, info.Block);
        var context = new NodeContext(info.Machine, placed, sameRack, sameBlock);
        return Engine.Evaluate(request, node.Shape, node.FreeGpus & ~unavailable, context);
    }

    /// <summary>Evaluates against an explicit free mask (preemption: "what if these victims were gone").</summary>
    public NodeVerdict EvaluateWithFree(CompiledRequest request, NodeState node, ClusterSnapshot snapshot, string? placementGroup, ulong free)
    {
        var info = node.Info;
        var (placed, sameRack, sameBlock) = snapshot.GroupLocality(placementGroup, info.Rack, info.Block);
        return Engine.Evaluate(request, node.Shape, free, new NodeContext(info.Machine, placed, sameRack, sameBlock));
    }
}
