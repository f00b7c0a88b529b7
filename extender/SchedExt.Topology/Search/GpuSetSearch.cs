using System.Numerics;
using SchedExt.Topology.Requests;
using SchedExt.Topology.Scoring;
using SchedExt.Topology.Shapes;

namespace SchedExt.Topology.Search;

/// <summary>Finds the best GPU set of a given size inside a candidate mask: exact up to 16 GPUs, a hierarchical heuristic above.</summary>
internal static class GpuSetSearch
{
    /// <summary>The set-dependent part of the score, the objective both searches maximise.</summary>
    public static int SetScore(NodeShape shape, ScoreWeights w, NicNeed nic, ulong freeGpus, ulong set) =>
        (w.LinkQuality * LinkQuality.Score(shape, set))
        + (w.NumaSpan * NumaSpan.Score(shape, set))
        + (w.NicAffinity * NicAffinity.Score(shape, set, nic))
        + (w.Leftover * LeftoverFit.Score(shape, freeGpus, set));

    /// <summary>
    /// Exact search: enumerates every <paramref name="count"/>-subset of <paramref name="candidates"/> whose pairs are all
    /// adjacent at <paramref name="tier"/> (each such clique exactly once, in ascending-mask order of its lowest members)
    /// and keeps the best by (score desc, mask asc) — the same order brute force uses, so the result is identical.
    /// Returns false when no such subset exists.
    /// </summary>
    public static bool Exact(NodeShape shape, ScoreWeights w, NicNeed nic, Interconnect tier, int count, ulong freeGpus, ulong candidates, out ulong best, out int bestScore)
    {
        var state = new State(shape, w, nic, shape.Adjacency(tier), count, freeGpus);
        Enumerate(ref state, 0, candidates, 0);
        best = state.Best;
        bestScore = state.BestScore;
        return state.Best != 0;
    }

    /// <summary>
    /// Heuristic for shapes above 16 GPUs. From every seed GPU it grows a set greedily, each step adding the candidate
    /// with the most link points to the GPUs already chosen (so NVSwitch domains, then PCIe switches, then NUMA nodes
    /// fill first — the hardware's own hierarchy), and keeps the best-scoring result. If no seed completes, an exact
    /// depth-first search looks for any valid set, so the answer is never "infeasible" while a valid set exists.
    /// </summary>
    public static bool Heuristic(NodeShape shape, ScoreWeights w, NicNeed nic, Interconnect tier, int count, ulong freeGpus, ulong candidates, out ulong best, out int bestScore)
    {
        var adjacency = shape.Adjacency(tier);
        best = 0;
        bestScore = -1;
        for (var seeds = candidates; seeds != 0; seeds &= seeds - 1)
        {
            var v = BitOperations.TrailingZeroCount(seeds);
            var chosen = 1UL << v;
            var open = candidates & adjacency[v];
            var size = 1;
            while (size < count && BitOperations.PopCount(open) >= count - size)
            {
                var next = MostConnected(shape, chosen, open);
                chosen |= 1UL << next;
                open &= adjacency[next];
                size++;
            }

            if (size == count)
            {
                Consider(SetScore(shape, w, nic, freeGpus, chosen), chosen, ref best, ref bestScore);
            }
        }

        if (best == 0)
        {
            var any = FirstClique(adjacency, 0, candidates, count);
            if (any != 0)
            {
                best = any;
                bestScore = SetScore(shape, w, nic, freeGpus, any);
            }
        }

        return best != 0;
    }

    private static int MostConnected(NodeShape shape, ulong chosen, ulong open)
    {
        int bestGpu = -1, bestPoints = -1;
        for (var c = open; c != 0; c &= c - 1)
        {
            var u = BitOperations.TrailingZeroCount(c);
            var points = 0;
            for (var s = chosen; s != 0; s &= s - 1)
            {
                points += Model.Link.Points(shape.LinkCode(u, BitOperations.TrailingZeroCount(s)));
            }

            if (points > bestPoints)
            {
                bestPoints = points;
                bestGpu = u;
            }
        }

        return bestGpu;
    }

    private static ulong FirstClique(ReadOnlySpan<ulong> adjacency, ulong chosen, ulong candidates, int remaining)
    {
        if (remaining == 0)
        {
            return chosen;
        }

        while (BitOperations.PopCount(candidates) >= remaining)
        {
            var v = BitOperations.TrailingZeroCount(candidates);
            candidates &= candidates - 1;
            var found = FirstClique(adjacency, chosen | (1UL << v), candidates & adjacency[v], remaining - 1);
            if (found != 0)
            {
                return found;
            }
        }

        return 0;
    }

    private static void Consider(int score, ulong set, ref ulong best, ref int bestScore)
    {
        if (score > bestScore || (score == bestScore && set < best))
        {
            best = set;
            bestScore = score;
        }
    }

    private static void Enumerate(ref State state, ulong chosen, ulong candidates, int size)
    {
        if (size == state.Count)
        {
            Consider(SetScore(state.Shape, state.Weights, state.Nic, state.Free, chosen), chosen, ref state.Best, ref state.BestScore);
            return;
        }

        while (candidates != 0 && BitOperations.PopCount(candidates) >= state.Count - size)
        {
            var v = BitOperations.TrailingZeroCount(candidates);
            candidates &= candidates - 1;
            Enumerate(ref state, chosen | (1UL << v), candidates & state.Adjacency[v], size + 1);
        }
    }

    private ref struct State(NodeShape shape, ScoreWeights weights, NicNeed nic, ReadOnlySpan<ulong> adjacency, int count, ulong free)
    {
        public readonly NodeShape Shape = shape;
        public readonly ScoreWeights Weights = weights;
        public readonly NicNeed Nic = nic;
        public readonly ReadOnlySpan<ulong> Adjacency = adjacency;
        public readonly int Count = count;
        public readonly ulong Free = free;
        public ulong Best;
        public int BestScore = -1;
    }
}
