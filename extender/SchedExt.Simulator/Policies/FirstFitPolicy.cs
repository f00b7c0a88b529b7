using System.Numerics;
using SchedExt.Simulator.Engine;
using SchedExt.Simulator.Inputs;

namespace SchedExt.Simulator.Policies;

/// <summary>
/// Topology-blind first fit: the first node in name order with enough free GPUs (and the required machine kind), and
/// there the lowest free GPU indices, as a device plugin without topology hints hands them out.
/// </summary>
internal sealed class FirstFitPolicy : IPlacementPolicy
{
    public const string PolicyName = "first-fit";

    public string Name => PolicyName;

    public int ClassOf(SimJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return TopologyBlind.ClassOf(job.Request);
    }

    public PlaceOutcome TryPlace(SimJob job, SimulatedCluster cluster, ReadOnlySpan<int> candidates, bool allNodes, out int node, out ulong gpus)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(cluster);
        var r = job.Request;
        var eligible = false;
        foreach (var i in candidates)
        {
            var state = cluster.Node(i);
            eligible |= TopologyBlind.Eligible(r, state);
            if (TopologyBlind.FitsNow(r, state))
            {
                node = i;
                gpus = Lowest(state.FreeGpus, r.Count);
                return PlaceOutcome.Placed;
            }
        }

        node = -1;
        gpus = 0;
        return allNodes && !eligible ? PlaceOutcome.Never : PlaceOutcome.Wait;
    }

    /// <summary>The <paramref name="count"/> lowest set bits of <paramref name="free"/>.</summary>
    internal static ulong Lowest(ulong free, int count)
    {
        ulong taken = 0;
        for (var n = 0; n < count; n++)
        {
            var bit = free & (~free + 1);
            taken |= bit;
            free ^= bit;
        }

        return BitOperations.PopCount(taken) == count ? taken : throw new InvalidOperationException("not enough free GPUs");
    }
}
