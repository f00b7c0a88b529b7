using SchedExt.Extender.Scheduling;
using SchedExt.Simulator.Engine;
using SchedExt.Simulator.Inputs;
using SchedExt.Topology.Search;

namespace SchedExt.Simulator.Policies;

/// <summary>
/// SchedExt's placement through the extender's own <see cref="PlacementPlanner"/> and <see cref="RequestCache"/>:
/// filter keeps the nodes whose <see cref="PlacementPlanner.Evaluate(CompiledRequest, Extender.State.NodeState, Extender.State.ClusterSnapshot, string?, ulong)"/> verdict is feasible, prioritize takes the
/// highest <see cref="NodeVerdict.Score"/> (ties by node name, i.e. an extender whose weight dominates the scheduler's
/// own scores), and bind takes the GPUs of <see cref="PlacementPlanner.EvaluateWithFree"/> on the chosen node, as the
/// binder does.
/// </summary>
internal sealed class SchedExtPolicy(PlacementPlanner planner, RequestCache requests) : IPlacementPolicy
{
    public const string PolicyName = "schedext";

    private readonly Dictionary<CompiledRequest, int> _classes = new(ReferenceEqualityComparer.Instance);

    public string Name => PolicyName;

    public int ClassOf(SimJob job)
    {
        ArgumentNullException.ThrowIfNull(job);

        // Equal requests share one compiled request (RequestCache); its verdicts depend only on it, the node and its
        // free GPUs for feasibility (the placement group changes the score, never feasibility).
        var compiled = requests.Get(job.Request);
        if (!_classes.TryGetValue(compiled, out var id))
        {
            _classes[compiled] = id = _classes.Count;
        }

        return id;
    }

    public PlaceOutcome TryPlace(SimJob job, SimulatedCluster cluster, ReadOnlySpan<int> candidates, bool allNodes, out int node, out ulong gpus)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(cluster);
        var compiled = requests.Get(job.Request);
        var snapshot = cluster.Snapshot;
        var best = -1;
        var bestScore = int.MinValue;
        var unresolvable = true;
        foreach (var i in candidates)
        {
            // filter + prioritize: exactly the call the verbs make for each node (no reservations in flight here).
            var verdict = planner.Evaluate(compiled, cluster.Node(i), snapshot, job.Group);
            if (!verdict.Feasible)
            {
                unresolvable &= verdict.Unresolvable;
                continue;
            }

            unresolvable = false;
            if (verdict.Score > bestScore)
            {
                best = i;
                bestScore = verdict.Score;
            }
        }

        node = best;
        gpus = 0;
        if (best < 0)
        {
            return allNodes && unresolvable ? PlaceOutcome.Never : PlaceOutcome.Wait;
        }

        // bind: the binder's call, against the node's free GPUs.
        var chosen = cluster.Node(best);
        gpus = planner.EvaluateWithFree(compiled, chosen, snapshot, job.Group, chosen.FreeGpus).Gpus;
        return PlaceOutcome.Placed;
    }
}
