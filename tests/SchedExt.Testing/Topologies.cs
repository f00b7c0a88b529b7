using SchedExt.Topology.Model;

namespace SchedExt.Testing;

/// <summary>Builds node topologies for tests from compact matrices written the way nvidia-smi prints them.</summary>
public static class Topologies
{
    /// <summary>
    /// Builds a topology from a GPU matrix (rows separated by <c>;</c> or new lines, tokens by spaces), an optional
    /// GPU×NIC matrix in the same form, the NUMA node of each GPU, and one product / memory for every GPU.
    /// </summary>
    public static NodeTopology FromMatrix(string gpuMatrix, string? nicMatrix = null, int[]? numa = null, string? product = null, int memoryMiB = 0, string[]? nicNames = null)
    {
        var rows = Rows(gpuMatrix);
        var n = rows.Length;
        var gpuLinks = rows.SelectMany(r => r.Select(Link.Parse)).ToArray();
        var nicRows = nicMatrix is null ? [] : Rows(nicMatrix);
        var m = nicRows.Length == 0 ? 0 : nicRows[0].Length;
        var nicLinks = nicRows.SelectMany(r => r.Select(Link.Parse)).ToArray();
        numa ??= Enumerable.Repeat(0, n).ToArray();
        var numaIds = numa.Where(x => x >= 0).Distinct().Order().Select(id => new NumaNodeInfo(id)).ToArray();
        var gpus = Enumerable.Range(0, n).Select(i => new GpuDevice(i, $"GPU-{i:D4}", product, memoryMiB, numa[i])).ToArray();
        var nics = Enumerable.Range(0, m).Select(j => new NicDevice(nicNames?[j] ?? $"mlx5_{j}", NicNuma(nicRows, j, numa))).ToArray();
        return NodeTopology.Create(gpus, nics, numaIds, gpuLinks, nicLinks);
    }

    private static int NicNuma(string[][] nicRows, int nic, int[] numa)
    {
        for (var i = 0; i < nicRows.Length; i++)
        {
            if (Link.Parse(nicRows[i][nic]).IsNearNic)
            {
                return numa[i];
            }
        }

        return -1;
    }

    private static string[][] Rows(string matrix) =>
        matrix.Split([';', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
              .Select(r => r.Split(' ', StringSplitOptions.RemoveEmptyEntries))
              .ToArray();

    /// <summary>DGX-1V hybrid cube-mesh (8× V100, NV1/NV2, SYS across the two quads' missing edges), 4 NICs, 2 NUMA nodes.</summary>
    public static NodeTopology Dgx1V100() => FromMatrix(
        """
        X   NV1 NV1 NV2 NV2 SYS SYS SYS
        NV1 X   NV2 NV1 SYS NV2 SYS SYS
        NV1 NV2 X   NV2 SYS SYS NV1 SYS
        NV2 NV1 NV2 X   SYS SYS SYS NV1
        NV2 SYS SYS SYS X   NV1 NV1 NV2
        SYS NV2 SYS SYS NV1 X   NV2 NV1
        SYS SYS NV1 SYS NV1 NV2 X   NV2
        SYS SYS SYS NV1 NV2 NV1 NV2 X
        """,
        """
        PIX SYS PHB SYS
        PIX SYS PHB SYS
        PHB SYS PIX SYS
        PHB SYS PIX SYS
        SYS PIX SYS PHB
        SYS PIX SYS PHB
        SYS PHB SYS PIX
        SYS PHB SYS PIX
        """,
        numa: [0, 0, 0, 0, 1, 1, 1, 1],
        product: "Tesla V100-SXM2-32GB",
        memoryMiB: 32768,
        nicNames: ["mlx5_0", "mlx5_2", "mlx5_1", "mlx5_3"]);

    /// <summary>8 GPUs fully joined by NVSwitch (NV18), two NUMA nodes, one near NIC per GPU.</summary>
    public static NodeTopology NvSwitch8(string product = "NVIDIA H100 80GB HBM3", int memoryMiB = 81559)
    {
        var gpu = string.Join(';', Enumerable.Range(0, 8).Select(i => string.Join(' ', Enumerable.Range(0, 8).Select(j => i == j ? "X" : "NV18"))));
        var nic = string.Join(';', Enumerable.Range(0, 8).Select(i => string.Join(' ', Enumerable.Range(0, 8).Select(j => i == j ? "PIX" : (i / 4 == j / 4 ? "NODE" : "SYS")))));
        return FromMatrix(gpu, nic, numa: [0, 0, 0, 0, 1, 1, 1, 1], product: product, memoryMiB: memoryMiB);
    }

    /// <summary>8 PCIe GPUs on two sockets: pairs under one switch (PIX), pairs of pairs PXB, NODE within a socket, SYS across.</summary>
    public static NodeTopology Pcie8TwoSocket()
    {
        static string Link(int i, int j) => i == j ? "X" : i / 2 == j / 2 ? "PIX" : i / 4 == j / 4 ? "PXB" : "SYS";
        var gpu = string.Join(';', Enumerable.Range(0, 8).Select(i => string.Join(' ', Enumerable.Range(0, 8).Select(j => Link(i, j)))));
        var nic = string.Join(';', Enumerable.Range(0, 8).Select(i => i < 4 ? (i < 2 ? "PIX SYS" : "PXB SYS") : (i < 6 ? "SYS PIX" : "SYS PXB")));
        return FromMatrix(gpu, nic, numa: [0, 0, 0, 0, 1, 1, 1, 1], product: "NVIDIA L40S", memoryMiB: 46068);
    }

    /// <summary>4 V100 PCIe in NVLink-bridged pairs (0-1, 2-3), pairs on different sockets.</summary>
    public static NodeTopology V100Pairs4() => FromMatrix(
        "X NV2 SYS SYS; NV2 X SYS SYS; SYS SYS X NV2; SYS SYS NV2 X",
        numa: [0, 0, 1, 1],
        product: "Tesla V100-PCIE-32GB",
        memoryMiB: 32768);

    /// <summary>A large NVLink domain of <paramref name="gpus"/> GPUs in NVSwitch islands of 8 (NV18), SYS between islands.</summary>
    public static NodeTopology Islands(int gpus)
    {
        var gpu = string.Join(';', Enumerable.Range(0, gpus).Select(i => string.Join(' ', Enumerable.Range(0, gpus).Select(j => i == j ? "X" : i / 8 == j / 8 ? "NV18" : "SYS"))));
        return FromMatrix(gpu, numa: Enumerable.Range(0, gpus).Select(i => i / 8).ToArray(), product: "NVIDIA B200", memoryMiB: 183359);
    }
}
