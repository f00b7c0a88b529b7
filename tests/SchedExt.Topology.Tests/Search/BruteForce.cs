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

    /// <summary>
    /// What the engine adds to the set score for the node itself, worked from the documented tables rather than the
    /// scoring code: machine fit (preference met 1000, missed 0, unknown kind 500; no preference or a met requirement
    /// 1000) and group locality (1000 a pod in this rack, 500 in this block, 0 elsewhere, averaged; 1000 with no pod
    /// placed). Null when the request's machine requirement rules the node out.
    /// </summary>
    public static int? NodeParts(ScoreWeights w, MachinePolicy policy, NodeContext context)
    {
        var kind = context.Machine;
        int? machine = (policy, kind) switch
        {
            (MachinePolicy.RequireBareMetal, not MachineKind.BareMetal) or (MachinePolicy.RequireVm, not MachineKind.Vm) => null,
            (MachinePolicy.PreferBareMetal or MachinePolicy.PreferVm, MachineKind.Unknown) => 500,
            (MachinePolicy.PreferBareMetal, MachineKind.Vm) or (MachinePolicy.PreferVm, MachineKind.BareMetal) => 0,
            _ => 1000,
        };
        if (machine is null)
        {
            return null;
        }

        var (placed, rack, block) = (context.GroupPlaced, context.GroupSameRack, context.GroupSameBlock);
        var group = placed == 0 ? 1000 : ((1000 * rack) + (500 * (block - rack))) / placed;
        return (w.Machine * machine) + (w.PlacementGroup * group);
    }

    /// <summary>The most free GPUs usable by <paramref name="r"/> whose every pair meets its interconnect: what a "link too weak" verdict reports.</summary>
    public static int LargestGroup(NodeShape shape, GpuRequest r, ulong free)
    {
        var t = shape.Topology;
        var min = MinCode(r.Interconnect);
        ulong usable = 0;
        for (var i = 0; i < t.GpuCount; i++)
        {
            if ((free & (1UL << i)) != 0 && AllUsable(t, r, 1UL << i))
            {
                usable |= 1UL << i;
            }
        }

        var largest = 0;
        for (var mask = usable; mask != 0; mask = (mask - 1) & usable)
        {
            if (BitOperations.PopCount(mask) > largest && AllPairsAtLeast(t, mask, min))
            {
                largest = BitOperations.PopCount(mask);
            }
        }

        return largest;
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
