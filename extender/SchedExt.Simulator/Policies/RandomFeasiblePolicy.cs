using System.Numerics;
using SchedExt.Simulator.Engine;
using SchedExt.Simulator.Inputs;

namespace SchedExt.Simulator.Policies;

/// <summary>
/// Topology-blind random: a node chosen uniformly among those with enough free GPUs (and the required machine kind),
/// and there GPUs chosen uniformly among the free ones. Seeded, so a run is reproducible.
/// </summary>
internal sealed class RandomFeasiblePolicy(ulong seed) : IPlacementPolicy
{
    public const string PolicyName = "random";

    private readonly SeededRandom _random = new(seed);
    private readonly List<int> _fits = [];

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
        _fits.Clear();
        foreach (var i in candidates)
        {
            var state = cluster.Node(i);
            eligible |= TopologyBlind.Eligible(r, state);
            if (TopologyBlind.FitsNow(r, state))
            {
                _fits.Add(i);
            }
        }

        if (_fits.Count == 0)
        {
            node = -1;
            gpus = 0;
            return allNodes && !eligible ? PlaceOutcome.Never : PlaceOutcome.Wait;
        }

        node = _fits[_random.Next(_fits.Count)];
        gpus = Pick(cluster.Node(node).FreeGpus, r.Count);
        return PlaceOutcome.Placed;
    }

    /// <summary><paramref name="count"/> bits of <paramref name="free"/>, each subset equally likely (selection sampling).</summary>
    private ulong Pick(ulong free, int count)
    {
        ulong taken = 0;
        var left = BitOperations.PopCount(free);
        var need = count;
        while (need > 0)
        {
            var bit = free & (~free + 1);
            free ^= bit;
            if (_random.Next(left) < need)
            {
                taken |= bit;
                need--;
            }

            left--;
        }

        return taken;
    }
}
