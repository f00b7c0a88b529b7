using CsCheck;
using SchedExt.Topology.Model;
using SchedExt.Topology.Requests;
using SchedExt.Topology.Scoring;
using SchedExt.Topology.Search;

namespace SchedExt.Topology.Tests.Search;

/// <summary>CsCheck generators of random but valid topologies, free masks, requests, node contexts and weights.</summary>
internal static class RandomTopologies
{
    private static readonly string[] GpuTokens = ["SYS", "NODE", "PHB", "PXB", "PIX", "NV1", "NV2", "NV4", "NV12", "NV18"];
    private static readonly string[] NicTokens = ["SYS", "NODE", "PHB", "PXB", "PIX"];
    private static readonly string[] Products = ["NVIDIA H100", "NVIDIA A100", "Tesla V100"];

    public static Gen<NodeTopology> Topology(int minGpus, int maxGpus) =>
        from n in Gen.Int[minGpus, maxGpus]
        from pairs in Gen.Int[0, GpuTokens.Length - 1].Array[n * n]
        from nics in Gen.Int[0, 3]
        from nicLinks in Gen.Int[0, NicTokens.Length - 1].Array[n * 3]
        from numa in Gen.Int[0, 2].Array[n]
        from product in Gen.Int[0, Products.Length - 1].Array[n]
        from memory in Gen.OneOf(16384, 40960, 81920).Array[n]
        select Build(n, pairs, nics, nicLinks, numa, product, memory);

    public static Gen<GpuRequest> Request(int maxCount) =>
        from count in Gen.OneOf(Gen.Int[1, Math.Min(4, maxCount)], Gen.Int[1, maxCount])
        from tier in Gen.Enum<Interconnect>()
        from nic in Gen.Enum<NicNeed>()
        from glob in Gen.OneOf<string?>(null, null, "*H100*", "nvidia*")
        from memory in Gen.OneOf(0, 0, 40960)
        from machine in Gen.OneOf(MachinePolicy.Any, MachinePolicy.Any, MachinePolicy.RequireBareMetal, MachinePolicy.RequireVm, MachinePolicy.PreferBareMetal, MachinePolicy.PreferVm)
        select new GpuRequest(count, tier, nic, machine, glob, memory);

    /// <summary>Free masks over <paramref name="gpus"/> GPUs, sparse to full, so whole-node and near-full placements occur too.</summary>
    public static Gen<ulong> Free(int gpus) =>
        from a in Gen.ULong
        from b in Gen.ULong
        from density in Gen.Int[0, 3]
        select (density switch { 0 => a & b, 1 => a, 2 => a | b, _ => ulong.MaxValue }) & ((1UL << gpus) - 1);

    /// <summary>Any machine kind, and a placement group of 0..8 placed pods of which some share this node's block and rack.</summary>
    public static Gen<NodeContext> Context() =>
        from machine in Gen.Enum<MachineKind>()
        from placed in Gen.Int[0, 8]
        from sameBlock in Gen.Int[0, placed]
        from sameRack in Gen.Int[0, sameBlock]
        select new NodeContext(machine, placed, sameRack, sameBlock);

    /// <summary>
    /// Valid weights, each 0..1000 (at least one positive): large ones push the set score past 16 bits, which the
    /// memo must hold (it packs the score in bits 16..47).
    /// </summary>
    public static Gen<ScoreWeights> Weights() =>
        from w in Gen.OneOf(Gen.Int[0, 5], Gen.Int[0, 1000]).Array[6]
        where w.Any(x => x > 0)
        select new ScoreWeights { LinkQuality = w[0], NumaSpan = w[1], NicAffinity = w[2], Leftover = w[3], Machine = w[4], PlacementGroup = w[5] };

    private static NodeTopology Build(int n, int[] pairs, int nics, int[] nicLinks, int[] numa, int[] product, int[] memory)
    {
        var links = new Link[n * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                links[(i * n) + j] = i == j ? Link.Self : Link.Parse(GpuTokens[pairs[(Math.Min(i, j) * n) + Math.Max(i, j)]]);
            }
        }

        var nicMatrix = new Link[n * nics];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < nics; j++)
            {
                nicMatrix[(i * nics) + j] = Link.Parse(NicTokens[nicLinks[(i * 3) + j]]);
            }
        }

        var gpus = Enumerable.Range(0, n).Select(i => new GpuDevice(i, null, Products[product[i]], memory[i], numa[i])).ToArray();
        var numaNodes = numa.Distinct().Order().Select(id => new NumaNodeInfo(id)).ToArray();
        var nicDevices = Enumerable.Range(0, nics).Select(j => new NicDevice($"mlx5_{j}")).ToArray();
        return NodeTopology.Create(gpus, nicDevices, numaNodes, links, nicMatrix);
    }
}
