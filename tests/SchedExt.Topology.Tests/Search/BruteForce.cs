using System.Numerics;
using SchedExt.Topology.Model;
using SchedExt.Topology.Requests;
using SchedExt.Topology.Scoring;
using SchedExt.Topology.Search;
using SchedExt.Topology.Shapes;

namespace SchedExt.Topology.Tests.Search;

/// <summary>
/// The reference the fast search is held to: every subset of the node's GPUs, checked pair by pair against the raw
/// topology (not the engine's adjacency masks or filters), scored with the documented objective, best by
/// (score desc, mask asc).
/// </summary>
internal static class BruteForce
{
    public static (bool Feasible, ulong Gpus, int Score) Best(NodeShape shape, ScoreWeights w, GpuRequest r, ulong free)
    {
        var t = shape.Topology;
        var n = t.GpuCount;
        var min = r.Count == 1 ? Link.Sys.Code : MinCode(r.Interconnect);
        ulong bestMask = 0;
        var bestScore = -1;
        for (ulong mask = 1; mask < (1UL << n); mask++)
        {
            if (BitOperations.PopCount(mask) != r.Count || (mask & ~free) != 0)
            {
                continue;
            }

            if (!AllUsable(t, r, mask) || !AllPairsAtLeast(t, mask, min))
            {
                continue;
            }

            var score = (w.LinkQuality * LinkQuality.Score(shape, mask)) + (w.NumaSpan * NumaSpan.Score(shape, mask))
                + (w.NicAffinity * NicAffinity.Score(shape, mask, r.Nic)) + (w.Leftover * LeftoverFit.Score(shape, free, mask));
            if (score > bestScore)
            {
                bestScore = score;
                bestMask = mask;
            }
        }

        return (bestScore >= 0, bestMask, bestScore);
    }

    private static byte MinCode(Interconnect tier) => tier switch
    {
        Interconnect.NvLink => Link.NvLink(1).Code,
        Interconnect.PcieSwitch => Link.Pxb.Code,
        Interconnect.Numa => Link.Node.Code,
        _ => Link.Sys.Code,
    };

    private static bool AllUsable(NodeTopology t, GpuRequest r, ulong mask)
    {
        for (var i = 0; i < t.GpuCount; i++)
        {
            if ((mask & (1UL << i)) == 0)
            {
                continue;
            }

            var gpu = t.Gpus[i];
            if (r.ProductGlob is not null && (gpu.Product is null || !ProductGlob.IsMatch(r.ProductGlob, gpu.Product)))
            {
                return false;
            }

            if (gpu.MemoryMiB < r.MinMemoryMiB)
            {
                return false;
            }

            if (r.Nic == NicNeed.Required && !Enumerable.Range(0, t.Nics.Count).Any(j => t.NicLink(i, j).IsNearNic))
            {
                return false;
            }
        }

        return true;
    }

    private static bool AllPairsAtLeast(NodeTopology t, ulong mask, byte min)
    {
        for (var i = 0; i < t.GpuCount; i++)
        {
            for (var j = i + 1; j < t.GpuCount; j++)
            {
                if ((mask & (1UL << i)) != 0 && (mask & (1UL << j)) != 0 && t.GpuLink(i, j).Code < min)
                {
                    return false;
                }
            }
        }

        return true;
    }
}
