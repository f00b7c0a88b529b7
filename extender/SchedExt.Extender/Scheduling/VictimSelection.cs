using System.Numerics;
using SchedExt.Extender.State;
using SchedExt.Topology.Search;

namespace SchedExt.Extender.Scheduling;

/// <summary>
/// Preemption on one node: the smallest subset of the scheduler's GPU-holding victims whose GPUs, once freed, give the
/// pod a valid set. Victims without GPUs on this node are kept as the scheduler chose them: it needed them for other
/// resources, which the extender does not see.
/// </summary>
internal static class VictimSelection
{
    /// <summary>Exhaustive search over subsets up to this many GPU-holding victims; above it, a greedy pass.</summary>
    private const int ExhaustiveLimit = 16;

    /// <summary>Indices into <paramref name="victimGpus"/> to keep as victims, or null when no subset frees a valid set.</summary>
    public static List<int>? Select(Func<ulong, NodeVerdict> evaluate, ulong free, IReadOnlyList<ulong> victimGpus)
    {
        var holders = new List<int>();
        var keep = new List<int>();
        for (var i = 0; i < victimGpus.Count; i++)
        {
            (victimGpus[i] == 0 ? keep : holders).Add(i);
        }

        if (evaluate(free).Feasible)
        {
            return keep;
        }

        var g = holders.Count;
        if (g <= ExhaustiveLimit)
        {
            for (var size = 1; size <= g; size++)
            {
                int bestSubset = -1, bestScore = -1;
                for (var subset = (1 << size) - 1; subset < (1 << g); subset = NextCombination(subset))
                {
                    var verdict = evaluate(free | Union(victimGpus, holders, subset));
                    if (verdict.Feasible && verdict.Score > bestScore)
                    {
                        bestScore = verdict.Score;
                        bestSubset = subset;
                    }
                }

                if (bestSubset >= 0)
                {
                    for (var s = bestSubset; s != 0; s &= s - 1)
                    {
                        keep.Add(holders[BitOperations.TrailingZeroCount(s)]);
                    }

                    keep.Sort();
                    return keep;
                }
            }

            return null;
        }

        return Greedy(evaluate, free, victimGpus, holders, keep);
    }

    private static List<int>? Greedy(Func<ulong, NodeVerdict> evaluate, ulong free, IReadOnlyList<ulong> victimGpus, List<int> holders, List<int> keep)
    {
        // Take victims in order of how many GPUs they free (most first) until the pod fits, then give back any victim
        // whose GPUs turn out unnecessary.
        var order = holders.OrderByDescending(i => BitOperations.PopCount(victimGpus[i])).ToList();
        var chosen = new List<int>();
        var mask = free;
        foreach (var i in order)
        {
            chosen.Add(i);
            mask |= victimGpus[i];
            if (evaluate(mask).Feasible)
            {
                break;
            }
        }

        if (!evaluate(mask).Feasible)
        {
            return null;
        }

        for (var k = chosen.Count - 1; k >= 0; k--)
        {
            var without = free;
            for (var j = 0; j < chosen.Count; j++)
            {
                if (j != k)
                {
                    without |= victimGpus[chosen[j]];
                }
            }

            if (evaluate(without).Feasible)
            {
                chosen.RemoveAt(k);
            }
        }

        keep.AddRange(chosen);
        keep.Sort();
        return keep;
    }

    private static ulong Union(IReadOnlyList<ulong> victimGpus, List<int> holders, int subset)
    {
        ulong mask = 0;
        for (var s = subset; s != 0; s &= s - 1)
        {
            mask |= victimGpus[holders[BitOperations.TrailingZeroCount(s)]];
        }

        return mask;
    }

    /// <summary>Next integer with the same number of set bits (Gosper's hack).</summary>
    private static int NextCombination(int x)
    {
        var c = x & -x;
        var r = x + c;
        return (((r ^ x) >> 2) / c) | r;
    }

    /// <summary>GPUs a victim holds on <paramref name="node"/>: from the snapshot, else from the annotation the scheduler sent.</summary>
    public static ulong GpusOf(ClusterSnapshot snapshot, string node, string uid, string? assignedAnnotation)
    {
        if (snapshot.Allocations.TryGetValue(uid, out var allocation))
        {
            return allocation.Node == node ? allocation.Gpus : 0;
        }

        return assignedAnnotation is not null && AssignedGpus.TryParse(assignedAnnotation, out var mask) ? mask : 0;
    }
}
