using System.Globalization;
using SchedExt.Topology.Model;
using SchedExt.Topology.Parsing;

namespace SchedExt.Topology.Shapes;

/// <summary>Built-in node shapes — three real machines and four documented typical layouts — for the demo cluster, benchmarks and tests.</summary>
/// <remarks>
/// The real ones are embedded <c>nvidia-smi topo -m</c> outputs (<c>Shapes/Reference/README.md</c> names their
/// sources) parsed on first use; the others are built from the rules documented on each member. Every member
/// returns the same immutable instance on each call, except <see cref="Synthetic"/>, which builds a new one.
/// </remarks>
public static class ReferenceTopologies
{
    private const string ResourcePrefix = "SchedExt.Topology.Shapes.Reference.";

    private static readonly Lazy<NodeTopology> HgxH200Shape = new(() =>
        WithProduct(FromResource("hgx-h200_8gpu_12nic_distributedai.txt"), "NVIDIA H200", 143771));

    private static readonly Lazy<NodeTopology> Dgx1V100Shape = new(BuildDgx1V100);

    private static readonly Lazy<NodeTopology> Rtx5090Shape = new(() =>
        WithProduct(FromResource("2x-rtx5090_workstation_PHB_club3090-issue1229.txt"), "NVIDIA GeForce RTX 5090", 32607));

    private static readonly Lazy<NodeTopology> Pcie8Shape = new(BuildPcie8TwoSocket);

    private static readonly Lazy<NodeTopology> V100PairsShape = new(BuildV100Pairs4);

    private static readonly Lazy<NodeTopology> Dgx2Shape = new(BuildDgx2V100);

    /// <summary>HGX H200: 8 GPUs, all pairs NV18 through NVSwitch, 12 NICs (mlx5_0..11, one PXB to each GPU plus 4 more), 2 NUMA nodes of 4 GPUs.</summary>
    public static NodeTopology HgxH200 => HgxH200Shape.Value;

    /// <summary>DGX-1V: 8× V100 in a hybrid cube-mesh (NV1/NV2, SYS on the missing edges), 4 NICs each PIX to a GPU pair, 2 NUMA nodes of 4 GPUs.</summary>
    public static NodeTopology Dgx1V100 => Dgx1V100Shape.Value;

    /// <summary>A workstation with 2× RTX 5090 joined through the CPU's host bridge (PHB), one NUMA node, no NICs.</summary>
    public static NodeTopology Rtx5090Workstation => Rtx5090Shape.Value;

    /// <summary>
    /// 8 PCIe GPUs (L40S) on 2 sockets with a two-level PCIe switch tree per socket: GPU pairs (0-1, 2-3, 4-5, 6-7)
    /// each share a leaf switch (PIX), the two pairs of a socket meet at the socket's root switch (PXB), sockets
    /// are SYS apart. One NIC per socket (mlx5_0, mlx5_1) sits on the leaf switch of the socket's first pair
    /// (GPU0-1, GPU4-5): PIX to that pair, PXB to the other pair of its socket, SYS across.
    /// </summary>
    public static NodeTopology Pcie8TwoSocket => Pcie8Shape.Value;

    /// <summary>4 V100 in two NVLink-bridged pairs: GPU0-1 and GPU2-3 are NV2, each pair on its own socket, everything else SYS; no NICs.</summary>
    public static NodeTopology V100Pairs4 => V100PairsShape.Value;

    /// <summary>
    /// DGX-2: 16 V100 with every pair NV6 through NVSwitch; GPUs 0-7 on socket 0 and 8-15 on socket 1. PCIe:
    /// each GPU pair shares a leaf switch with one of 8 NICs (mlx5_0..7; PIX), two pairs share a root switch (PXB),
    /// the two root switches of a socket meet at its host bridges (NODE), sockets are SYS apart.
    /// </summary>
    public static NodeTopology Dgx2V100 => Dgx2Shape.Value;

    /// <summary>The names accepted by <see cref="Find"/>, one per built-in real or typical shape.</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["hgx-h200", "dgx1-v100", "rtx5090-workstation", "pcie8-two-socket", "v100-pairs4", "dgx2-v100"];

    /// <summary>The shape called <paramref name="name"/> (see <see cref="Names"/>); null for an unknown name.</summary>
    public static NodeTopology? Find(string name) => name switch
    {
        "hgx-h200" => HgxH200,
        "dgx1-v100" => Dgx1V100,
        "rtx5090-workstation" => Rtx5090Workstation,
        "pcie8-two-socket" => Pcie8TwoSocket,
        "v100-pairs4" => V100Pairs4,
        "dgx2-v100" => Dgx2V100,
        _ => null,
    };

    /// <summary>
    /// A large NVLink-domain node for exercising the search beyond 16 GPUs. GPUs form NVLink groups of
    /// <paramref name="nvLinkGroupSize"/> consecutive indices, every pair inside a group <c>NV<paramref name="nvLinks"/></c>
    /// (one group spanning all GPUs is a single NVSwitch domain). The GPUs are split evenly, in index order, over
    /// <paramref name="sockets"/> NUMA nodes; pairs outside a group are NODE within a socket and SYS across. One NIC
    /// (<c>mlx5_k</c>) per <paramref name="gpusPerNic"/> consecutive GPUs: PIX to them, NODE to the rest of its socket,
    /// SYS across; 0 means no NICs. Socket <c>s</c> holds CPUs <c>32s-(32s+31)</c>.
    /// </summary>
    public static NodeTopology Synthetic(int gpus, int nvLinkGroupSize = 8, int nvLinks = 18, int sockets = 2, int gpusPerNic = 2, string product = "Synthetic NVLink GPU", int memoryMiB = 81920)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(gpus, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(gpus, NodeTopology.MaxGpus);
        ArgumentOutOfRangeException.ThrowIfLessThan(nvLinkGroupSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(sockets, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(gpusPerNic);
        if (gpus % nvLinkGroupSize != 0 || gpus % sockets != 0 || (gpusPerNic > 0 && gpus % gpusPerNic != 0))
        {
            throw new ArgumentException($"{gpus} GPUs must divide evenly into NVLink groups of {nvLinkGroupSize}, {sockets} sockets and NICs per {gpusPerNic} GPUs", nameof(gpus));
        }

        var nv = Link.NvLink(nvLinks);
        var layout = new Layout(gpus, sockets, product, memoryMiB);
        var nicCount = gpusPerNic == 0 ? 0 : gpus / gpusPerNic;
        return layout.Build(
            (a, b) => a / nvLinkGroupSize == b / nvLinkGroupSize ? nv : layout.SameSocket(a, b) ? Link.Node : Link.Sys,
            Enumerable.Range(0, nicCount).Select(k => "mlx5_" + k.ToString(CultureInfo.InvariantCulture)).ToArray(),
            (gpu, nic) => gpu / gpusPerNic == nic ? Link.Pix : layout.SameSocket(gpu, nic * gpusPerNic) ? Link.Node : Link.Sys,
            s => $"{32 * s}-{(32 * s) + 31}");
    }

    /// <summary>Parses an embedded sample; a failure here is a build defect, so it is not caught.</summary>
    private static NodeTopology FromResource(string file)
    {
        using var stream = typeof(ReferenceTopologies).Assembly.GetManifestResourceStream(ResourcePrefix + file)
            ?? throw new InvalidOperationException($"embedded resource {ResourcePrefix}{file} is missing");
        using var reader = new StreamReader(stream);
        return NvidiaSmiTopologyParser.Parse(reader.ReadToEnd());
    }

    private static NodeTopology WithProduct(NodeTopology topology, string product, int memoryMiB) =>
        topology.With(gpus: [.. topology.Gpus.Select(g => g with { Product = product, MemoryMiB = memoryMiB })]);

    /// <summary>The DGX-1V sample has CPU Affinity but no NUMA column; its two CPU lists are its two sockets.</summary>
    private static NodeTopology BuildDgx1V100()
    {
        var parsed = FromResource("dgx1-v100_hybrid-cube-mesh_msccl-tools.txt");
        NumaNodeInfo[] numa = [new(0, "0-19,40-59"), new(1, "20-39,60-79")];
        var gpus = parsed.Gpus.Select(g => g with { Product = "Tesla V100-SXM2-32GB", MemoryMiB = 32768, NumaNode = g.Index < 4 ? 0 : 1 }).ToArray();
        var gpuNuma = gpus.Select(g => g.NumaNode).ToArray();
        var nicLinks = new Link[gpus.Length * parsed.Nics.Count];
        for (var i = 0; i < gpus.Length; i++)
        {
            for (var j = 0; j < parsed.Nics.Count; j++)
            {
                nicLinks[(i * parsed.Nics.Count) + j] = parsed.NicLink(i, j);
            }
        }

        var nics = parsed.Nics.Select((nic, j) => nic with { NumaNode = NvidiaSmiTopologyParser.NicNuma(gpuNuma, nicLinks, j, parsed.Nics.Count) }).ToArray();
        return parsed.With(gpus, nics, numa);
    }

    private static NodeTopology BuildPcie8TwoSocket()
    {
        var layout = new Layout(8, 2, "NVIDIA L40S", 46068);
        return layout.Build(
            (a, b) => a / 2 == b / 2 ? Link.Pix : layout.SameSocket(a, b) ? Link.Pxb : Link.Sys,
            ["mlx5_0", "mlx5_1"],
            (gpu, nic) => gpu / 2 == nic * 2 ? Link.Pix : layout.SameSocket(gpu, nic * 4) ? Link.Pxb : Link.Sys,
            s => s == 0 ? "0-31,64-95" : "32-63,96-127");
    }

    private static NodeTopology BuildV100Pairs4()
    {
        var layout = new Layout(4, 2, "Tesla V100-PCIE-32GB", 32768);
        return layout.Build(
            (a, b) => a / 2 == b / 2 ? Link.NvLink(2) : Link.Sys,
            [],
            (_, _) => Link.Sys,
            s => s == 0 ? "0-19,40-59" : "20-39,60-79");
    }

    private static NodeTopology BuildDgx2V100()
    {
        var layout = new Layout(16, 2, "Tesla V100-SXM3-32GB", 32768);
        return layout.Build(
            (_, _) => Link.NvLink(6),
            Enumerable.Range(0, 8).Select(k => "mlx5_" + k.ToString(CultureInfo.InvariantCulture)).ToArray(),
            (gpu, nic) => gpu / 2 == nic ? Link.Pix : gpu / 4 == nic / 2 ? Link.Pxb : layout.SameSocket(gpu, nic * 2) ? Link.Node : Link.Sys,
            s => s == 0 ? "0-23,48-71" : "24-47,72-95");
    }

    /// <summary>A node whose GPUs are split evenly, in index order, over its sockets (one NUMA node per socket).</summary>
    private sealed class Layout(int gpus, int sockets, string product, int memoryMiB)
    {
        public int Socket(int gpu) => gpu * sockets / gpus;

        public bool SameSocket(int a, int b) => Socket(a) == Socket(b);

        /// <summary>Builds the topology; <paramref name="gpuLink"/> is asked only for distinct GPUs, and NIC NUMA nodes follow the parser's rule.</summary>
        public NodeTopology Build(Func<int, int, Link> gpuLink, string[] nicNames, Func<int, int, Link> nicLink, Func<int, string> cpus)
        {
            var m = nicNames.Length;
            var devices = new GpuDevice[gpus];
            var gpuNuma = new int[gpus];
            var gpuLinks = new Link[gpus * gpus];
            var nicLinks = new Link[gpus * m];
            for (var a = 0; a < gpus; a++)
            {
                gpuNuma[a] = Socket(a);
                devices[a] = new GpuDevice(a, Product: product, MemoryMiB: memoryMiB, NumaNode: gpuNuma[a]);
                for (var b = 0; b < gpus; b++)
                {
                    gpuLinks[(a * gpus) + b] = a == b ? Link.Self : gpuLink(a, b);
                }

                for (var j = 0; j < m; j++)
                {
                    nicLinks[(a * m) + j] = nicLink(a, j);
                }
            }

            var nics = nicNames.Select((name, j) => new NicDevice(name, NvidiaSmiTopologyParser.NicNuma(gpuNuma, nicLinks, j, m))).ToArray();
            var numa = Enumerable.Range(0, sockets).Select(s => new NumaNodeInfo(s, cpus(s))).ToArray();
            return NodeTopology.Create(devices, nics, numa, gpuLinks, nicLinks);
        }
    }
}
