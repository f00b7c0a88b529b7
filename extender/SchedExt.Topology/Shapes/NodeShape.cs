using System.Numerics;
using SchedExt.Topology.Model;
using SchedExt.Topology.Requests;

namespace SchedExt.Topology.Shapes;

/// <summary>
/// Everything SchedExt derives from a node's hardware alone, computed once per distinct hardware shape and shared by
/// every node of that shape: per-tier adjacency masks, near-NIC mask, NUMA bits and (up to 16 GPUs) a table of the
/// largest connected group inside every GPU subset.
/// </summary>
public sealed class NodeShape
{
    /// <summary>GPU counts up to this are searched exactly and memoised per free mask.</summary>
    public const int ExactSearchLimit = 16;

    internal const int TierCount = 4;

    private readonly byte[] _links;
    private readonly ulong[] _adjacency;
    private readonly ulong[] _numaBit;
    private readonly byte[]? _largestGroup;

    internal NodeShape(int id, ulong fingerprint, NodeTopology topology)
    {
        Id = id;
        Fingerprint = fingerprint;
        Topology = topology;
        var n = topology.GpuCount;
        GpuCount = n;
        AllGpus = n == 64 ? ulong.MaxValue : (1UL << n) - 1;
        _links = topology.GpuLinkCodes.ToArray();

        _adjacency = new ulong[TierCount * n];
        for (var t = 0; t < TierCount; t++)
        {
            var min = MinimumLinkCode((Interconnect)t);
            for (var i = 0; i < n; i++)
            {
                ulong row = 0;
                for (var j = 0; j < n; j++)
                {
                    if (i != j && _links[(i * n) + j] >= min)
                    {
                        row |= 1UL << j;
                    }
                }

                _adjacency[(t * n) + i] = row;
            }
        }

        // Strongest tier in which at least one pair is joined: what "well connected" means on this shape.
        StrongestTier = Interconnect.Any;
        for (var t = TierCount - 1; t > 0; t--)
        {
            if (_adjacency.AsSpan(t * n, n).ContainsAnyExcept(0UL))
            {
                StrongestTier = (Interconnect)t;
                break;
            }
        }

        var nics = topology.Nics.Count;
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < nics; j++)
            {
                if (topology.NicLink(i, j).IsNearNic)
                {
                    NearNicGpus |= 1UL << i;
                }
            }
        }

        // NUMA ids become compact bit positions so a set's NUMA span is one popcount of OR-ed bits.
        _numaBit = new ulong[n];
        var ids = new List<int>();
        for (var i = 0; i < n; i++)
        {
            var numa = topology.Gpus[i].NumaNode;
            var slot = ids.IndexOf(numa);
            if (slot < 0)
            {
                slot = ids.Count;
                ids.Add(numa);
            }

            _numaBit[i] = 1UL << Math.Min(slot, 63);
        }

        if (n <= ExactSearchLimit)
        {
            _largestGroup = BuildLargestGroupTable(n);
        }

        Description = Describe(topology);
    }

    /// <summary>Dense id assigned by the <see cref="ShapeCatalog"/>: index into per-shape caches.</summary>
    public int Id { get; }

    /// <summary>Hash of the hardware shape (links, NUMA placement, products, memory; not UUIDs or names).</summary>
    public ulong Fingerprint { get; }

    /// <summary>The first node topology seen with this shape (UUIDs and NIC names belong to that node only).</summary>
    public NodeTopology Topology { get; }

    public int GpuCount { get; }

    /// <summary>Mask with one bit per GPU.</summary>
    public ulong AllGpus { get; }

    public bool IsKnown => Topology.IsKnown;

    /// <summary>GPUs that have at least one NIC at PIX/PXB distance.</summary>
    public ulong NearNicGpus { get; }

    /// <summary>The strongest interconnect tier that joins at least one GPU pair.</summary>
    public Interconnect StrongestTier { get; }

    /// <summary>Human summary, e.g. <c>8× NVIDIA H200 (best link NV18, 2 NUMA, 8 NIC)</c>; shapes may share one.</summary>
    public string Description { get; }

    internal ReadOnlySpan<byte> Links => _links;

    internal ReadOnlySpan<ulong> Adjacency(Interconnect tier) => _adjacency.AsSpan((int)tier * GpuCount, GpuCount);

    internal ulong NumaBit(int gpu) => _numaBit[gpu];

    internal byte LinkCode(int a, int b) => _links[(a * GpuCount) + b];

    /// <summary>The lowest link code that satisfies <paramref name="tier"/>.</summary>
    internal static byte MinimumLinkCode(Interconnect tier) => tier switch
    {
        Interconnect.NvLink => Link.NvLink(1).Code,
        Interconnect.PcieSwitch => Link.Pxb.Code,
        Interconnect.Numa => Link.Node.Code,
        _ => Link.Sys.Code,
    };

    /// <summary>Size of the largest subset of <paramref name="gpus"/> whose every pair is joined at <paramref name="tier"/> or better.</summary>
    public int LargestGroup(Interconnect tier, ulong gpus)
    {
        gpus &= AllGpus;
        if (_largestGroup is not null)
        {
            return _largestGroup[((int)tier << GpuCount) + (int)gpus];
        }

        return MaxClique(Adjacency(tier), gpus, 0, 0);
    }

    private byte[] BuildLargestGroupTable(int n)
    {
        // largest(m) = max(largest(m \ v), 1 + largest(m ∩ adj[v])) with v the lowest GPU of m; both operands are
        // subsets of m without v, hence numerically smaller, so one ascending pass fills the table.
        var size = 1 << n;
        var table = new byte[TierCount * size];
        for (var t = 0; t < TierCount; t++)
        {
            var adj = Adjacency((Interconnect)t);
            var row = table.AsSpan(t * size, size);
            for (var m = 1; m < size; m++)
            {
                var v = BitOperations.TrailingZeroCount(m);
                var without = m & (m - 1);
                var with = 1 + row[without & (int)adj[v]];
                row[m] = (byte)Math.Max(row[without], with);
            }
        }

        return table;
    }

    /// <summary>Exact maximum clique by branch and bound on bit masks (no allocation; real topologies are shallow).</summary>
    internal static int MaxClique(ReadOnlySpan<ulong> adjacency, ulong candidates, int size, int best)
    {
        while (candidates != 0)
        {
            if (size + BitOperations.PopCount(candidates) <= best)
            {
                return best;
            }

            var v = BitOperations.TrailingZeroCount(candidates);
            candidates &= candidates - 1;
            best = MaxClique(adjacency, candidates & adjacency[v], size + 1, best);
        }

        return Math.Max(best, size);
    }

    private static string Describe(NodeTopology t)
    {
        // Also the `shape` label of the extender's capacity gauges, which sum the nodes of shapes described alike:
        // so the text names what tells shapes apart for a reader (product, GPU count, best link, NUMA nodes, NICs).
        var product = t.GpuCount > 0 ? t.Gpus[0].Product ?? "GPU" : "GPU";
        if (!t.IsKnown)
        {
            return $"{t.GpuCount}× {product} (no topology)";
        }

        var parts = new List<string>(3);
        if (t.GpuCount > 1)
        {
            var best = Link.Sys;
            for (var i = 0; i < t.GpuCount; i++)
            {
                for (var j = i + 1; j < t.GpuCount; j++)
                {
                    var link = t.GpuLink(i, j);
                    if (link.Code > best.Code)
                    {
                        best = link;
                    }
                }
            }

            parts.Add($"best link {best}");
        }

        var numa = t.Gpus.Where(g => g.NumaNode >= 0).Select(g => g.NumaNode).Distinct().Count();
        parts.Add(numa > 0 ? $"{numa} NUMA" : "NUMA unknown");
        if (t.Nics.Count > 0)
        {
            parts.Add($"{t.Nics.Count} NIC");
        }

        return $"{t.GpuCount}× {product} ({string.Join(", ", parts)})";
    }
}
