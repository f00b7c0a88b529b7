using CsCheck;
using SchedExt.Topology.Model;
using SchedExt.Topology.Requests;

namespace SchedExt.Topology.Tests.Search;

/// <summary>CsCheck generators of random but valid topologies, free masks and requests.</summary>
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
        from count in Gen.Int[1, maxCount]
        from tier in Gen.Enum<Interconnect>()
        from nic in Gen.Enum<NicNeed>()
        from glob in Gen.OneOf<string?>(null, null, "*H100*", "nvidia*")
        from memory in Gen.OneOf(0, 0, 40960)
        select new GpuRequest(count, tier, nic, MachinePolicy.Any, glob, memory);

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
