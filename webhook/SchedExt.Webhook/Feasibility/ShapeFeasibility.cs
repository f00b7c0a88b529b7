using SchedExt.Topology.Requests;
using SchedExt.Topology.Search;

namespace SchedExt.Webhook.Feasibility;

/// <summary>Feasibility with the extender's placement engine: a request is feasible when some node shape could hold it with every GPU free.</summary>
/// <remarks>
/// The question is "could this pod ever run here", not "is there room now", so each distinct shape is evaluated
/// once as an empty node; the answer does not change as pods come and go.
/// </remarks>
internal sealed class ShapeFeasibility(PlacementEngine engine) : IShapeFeasibility
{
    public FeasibilityVerdict Check(GpuRequest request, ClusterSnapshot cluster)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(cluster);
        // No GPU node at all is no evidence either way: a GPU pool that scales from zero (cluster-autoscaler, Karpenter)
        // grows only for a Pending pod, and a new node offers no GPUs until its device plugin registers. Denying would
        // keep such a pool at zero for ever, so this is skipped like unknown shapes.
        if (!cluster.IsKnown || cluster.Shapes.Count == 0)
        {
            return FeasibilityVerdict.NotChecked;
        }

        var compiled = engine.Compile(request);
        var largest = 0;
        string? closest = null;
        var closestRank = -1;
        foreach (var group in cluster.Shapes)
        {
            var verdict = engine.Evaluate(compiled, group.Shape, group.Shape.AllGpus, new NodeContext(group.Machine));
            if (verdict.Feasible)
            {
                return new FeasibilityVerdict(true, true, null, request.Count);
            }

            var k = engine.LargestFeasibleCount(request, group.Shape, group.Shape.AllGpus, group.Machine);
            largest = Math.Max(largest, k);

            // Report the shape that came closest: the one that could hold the most GPUs with these constraints,
            // and among equals one of the right machine kind (its reason says more than "wrong kind").
            var rank = (k * 2) + (verdict.Reason == Infeasibility.MachineKindMismatch ? 0 : 1);
            if (rank > closestRank)
            {
                closestRank = rank;
                closest = $"{verdict.ReasonText()} (on {group.ExampleNode}, {group.Nodes} node(s) of that shape)";
            }
        }

        return new FeasibilityVerdict(true, false, closest, largest);
    }
}
