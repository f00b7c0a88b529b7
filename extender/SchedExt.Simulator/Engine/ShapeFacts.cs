using System.Numerics;
using SchedExt.Topology.Requests;
using SchedExt.Topology.Shapes;

namespace SchedExt.Simulator.Engine;

/// <summary>
/// What the simulator measures about GPU sets of one node shape: NUMA span, all-NVLink, near-NIC, and how many free
/// GPUs are stranded for NVLink jobs of 4 and 8 GPUs. Shape-only, so computed once per shape and shared by every node
/// and every policy of a run. Not thread-safe (a run is single-threaded).
/// </summary>
internal sealed class ShapeFacts
{
    /// <summary>The NVLink job sizes fragmentation is measured for.</summary>
    public static IReadOnlyList<int> FragmentSizes { get; } = [4, 8];

    private const byte Unknown = 0xFF;

    private readonly ulong[] _numaMasks;
    private readonly ulong[] _nvAdjacency;
    private readonly byte[]?[] _packMemo;
    private readonly bool[] _canHost;

    public ShapeFacts(NodeShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        Shape = shape;
        var topology = shape.Topology;
        var n = shape.GpuCount;
        var byNuma = new SortedDictionary<int, ulong>();
        _nvAdjacency = new ulong[n];
        for (var i = 0; i < n; i++)
        {
            var numa = topology.Gpus[i].NumaNode;
            byNuma[numa] = byNuma.GetValueOrDefault(numa) | (1UL << i);
            for (var j = 0; j < n; j++)
            {
                if (i != j && topology.IsKnown && topology.GpuLink(i, j).IsNvLink)
                {
                    _nvAdjacency[i] |= 1UL << j;
                }
            }
        }

        _numaMasks = [.. byNuma.Values];
        LargestNuma = _numaMasks.Length == 0 ? 0 : _numaMasks.Max(m => BitOperations.PopCount(m));
        _packMemo = new byte[]?[FragmentSizes.Count];
        _canHost = new bool[FragmentSizes.Count];
        for (var s = 0; s < FragmentSizes.Count; s++)
        {
            _canHost[s] = shape.LargestGroup(Interconnect.NvLink, shape.AllGpus) >= FragmentSizes[s];
            if (_canHost[s] && n <= NodeShape.ExactSearchLimit)
            {
                _packMemo[s] = new byte[1 << n];
                _packMemo[s].AsSpan().Fill(Unknown);
            }
        }
    }

    public NodeShape Shape { get; }

    /// <summary>GPUs on the fullest NUMA node: a set of at most this many could have stayed on one NUMA node.</summary>
    public int LargestNuma { get; }

    /// <summary>True when <paramref name="gpus"/> touch more than one NUMA node.</summary>
    public bool SpansNuma(ulong gpus)
    {
        var touched = 0;
        foreach (var mask in _numaMasks)
        {
            if ((mask & gpus) != 0 && ++touched > 1)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when every pair of <paramref name="gpus"/> is joined by NVLink (directly or through NVSwitch).</summary>
    public bool IsAllNvLink(ulong gpus) => Shape.LargestGroup(Interconnect.NvLink, gpus) == BitOperations.PopCount(gpus);

    /// <summary>True when some GPU of <paramref name="gpus"/> has no NIC at PIX/PXB distance.</summary>
    public bool MissesNearNic(ulong gpus) => (gpus & ~Shape.NearNicGpus) != 0;

    /// <summary>True when an empty node of this shape can host an NVLink job of <c>FragmentSizes[sizeIndex]</c> GPUs.</summary>
    public bool CanHost(int sizeIndex) => _canHost[sizeIndex];

    /// <summary>
    /// Free GPUs that no NVLink job of <c>FragmentSizes[sizeIndex]</c> GPUs can use: free minus k × the most disjoint free
    /// NVLink groups of k. Zero on shapes that could never host such a job (those are not fragmentation, just hardware).
    /// </summary>
    public int Stranded(int sizeIndex, ulong free)
    {
        if (!_canHost[sizeIndex])
        {
            return 0;
        }

        var k = FragmentSizes[sizeIndex];
        var memo = _packMemo[sizeIndex];
        var groups = memo is null ? GreedyPack(free, k) : Pack(free, k, memo);
        return BitOperations.PopCount(free) - (k * groups);
    }

    /// <summary>The most disjoint k-GPU NVLink cliques inside <paramref name="m"/>, exactly (memoised per mask).</summary>
    private int Pack(ulong m, int k, byte[] memo)
    {
        if (BitOperations.PopCount(m) < k)
        {
            return 0;
        }

        if (memo[(int)m] != Unknown)
        {
            return memo[(int)m];
        }

        var best = 0;
        if (Shape.LargestGroup(Interconnect.NvLink, m) >= k)
        {
            // The lowest GPU is either left out or in some clique; both branches shrink the mask, so memoisation bounds the work.
            var v = BitOperations.TrailingZeroCount(m);
            var rest = m & (m - 1);
            best = Pack(rest, k, memo);
            best = Math.Max(best, WithClique(1UL << v, rest & _nvAdjacency[v], k - 1, m, k, memo));
        }

        memo[(int)m] = (byte)best;
        return best;
    }

    private int WithClique(ulong clique, ulong candidates, int need, ulong m, int k, byte[] memo)
    {
        if (need == 0)
        {
            return 1 + Pack(m & ~clique, k, memo);
        }

        var best = 0;
        while (BitOperations.PopCount(candidates) >= need)
        {
            var u = BitOperations.TrailingZeroCount(candidates);
            candidates &= candidates - 1;
            best = Math.Max(best, WithClique(clique | (1UL << u), candidates & _nvAdjacency[u], need - 1, m, k, memo));
        }

        return best;
    }

    /// <summary>Shapes above 16 GPUs: take cliques greedily (lowest GPUs first); a lower bound, documented as such.</summary>
    private int GreedyPack(ulong free, int k)
    {
        var groups = 0;
        while (FindClique(0, free, k) is var clique and not 0)
        {
            free &= ~clique;
            groups++;
        }

        return groups;
    }

    private ulong FindClique(ulong clique, ulong candidates, int need)
    {
        if (need == 0)
        {
            return clique;
        }

        while (BitOperations.PopCount(candidates) >= need)
        {
            var u = BitOperations.TrailingZeroCount(candidates);
            candidates &= candidates - 1;
            var found = FindClique(clique | (1UL << u), candidates & _nvAdjacency[u], need - 1);
            if (found != 0)
            {
                return found;
            }
        }

        return 0;
    }
}
