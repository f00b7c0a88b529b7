using SchedExt.Testing;
using SchedExt.Topology.Requests;
using SchedExt.Topology.Scoring;
using SchedExt.Topology.Search;
using SchedExt.Topology.Shapes;

namespace SchedExt.Topology.Tests.Search;

/// <summary>Hand-worked placements and scores. Link points: SYS 0, NODE 20, PHB 30, PXB 45, PIX 55, NV1 72, NV2 74, NV18 100.</summary>
public sealed class PlacementTableTests
{
    private static readonly PlacementEngine Engine = new(ScoreWeights.Default);
    private static readonly ShapeCatalog Catalog = new();
    private static readonly NodeShape Dgx1 = Catalog.GetOrAdd(Topologies.Dgx1V100());
    private static readonly NodeShape NvSwitch = Catalog.GetOrAdd(Topologies.NvSwitch8());
    private static readonly NodeShape Pcie8 = Catalog.GetOrAdd(Topologies.Pcie8TwoSocket());
    private static readonly NodeShape Pairs4 = Catalog.GetOrAdd(Topologies.V100Pairs4());
    private static readonly NodeContext Metal = new(MachineKind.BareMetal);

    private static NodeVerdict Evaluate(NodeShape shape, ulong free, GpuRequest request, NodeContext? context = null) =>
        Engine.Evaluate(Engine.Compile(request), shape, free, context ?? Metal);

    public static TheoryData<string, ulong, string, ulong> Dgx1NvLinkQuads => new()
    {
        // The DGX-1V cube-mesh has exactly two NVLink-complete quads, {0,1,2,3} and {4,5,6,7}; every other quad has a
        // SYS pair (e.g. 0–5). Both quads score alike by symmetry, so the lower mask wins the tie.
        { "empty node takes the lower quad", 0xFF, "", 0x0F },
        { "GPU0 busy leaves only the upper quad", 0xFE, "", 0xF0 },
        { "GPU7 busy leaves only the lower quad", 0x7F, "", 0x0F },
        { "one GPU busy in each quad", 0xEE, "needs 4 NVLink-connected free GPUs; largest free NVLink group is 3", 0 },
    };

    [Theory]
    [MemberData(nameof(Dgx1NvLinkQuads))]
    public void Evaluate_Dgx1FourGpuNvLink_PicksCompleteQuadOrExplains(string name, ulong free, string reason, ulong expected)
    {
        var verdict = Evaluate(Dgx1, free, new GpuRequest(4, Interconnect.NvLink));
        Assert.True(expected == 0 ? !verdict.Feasible : verdict.Feasible, name);
        Assert.Equal(expected, verdict.Gpus);
        if (expected == 0)
        {
            Assert.Equal(reason, verdict.ReasonText());
            Assert.False(verdict.Unresolvable);
        }
    }

    [Fact]
    public void Evaluate_Dgx1FourGpuAnyLink_StillPrefersNvLinkQuad()
    {
        // With interconnect=any every quad is allowed, but a quad with a SYS pair has min 0: link quality
        // (3×0 + mean)/400 ≤ 250, against 722 for {0,1,2,3} (worked below). The score must pick a complete quad.
        var verdict = Evaluate(Dgx1, 0xFF, new GpuRequest(4));
        Assert.Equal(0x0FUL, verdict.Gpus);
    }

    [Fact]
    public void Explain_Dgx1LowerQuad_MatchesHandWorkedScore()
    {
        // Pairs of {0,1,2,3}: 0-1 NV1 72, 0-2 NV1 72, 0-3 NV2 74, 1-2 NV2 74, 1-3 NV1 72, 2-3 NV2 74.
        //   min 72, mean 438/6 = 73  → link = (3×72 + 73) × 1000 / 400 = 289000/400 = 722
        // NUMA: GPUs 0-3 all on node 0 → 1000. NIC: not requested → 1000.
        // Leftover: R = {4,5,6,7}; packing = 1000×(8−4)/8 = 500; strongest tier is NVLink and R is a complete
        //   NVLink quad → connectivity = 1000×4/4 = 1000 → (500 + 1000)/2 = 750.
        // Machine: no policy → 1000. Group: none → 1000.
        // Total = 4×722 + 2×1000 + 2×1000 + 3×750 + 2×1000 + 1×1000 = 2888+2000+2000+2250+2000+1000 = 12138 of 14000.
        var parts = Engine.Explain(new GpuRequest(4, Interconnect.NvLink), Dgx1, 0xFF, 0x0F, Metal);
        Assert.Equal(new ScoreBreakdown(722, 1000, 1000, 750, 1000, 1000, 12138, 14000), parts);
        var verdict = Evaluate(Dgx1, 0xFF, new GpuRequest(4, Interconnect.NvLink));
        Assert.Equal(12138, verdict.Score);
        Assert.Equal(9, verdict.ProtocolScore); // (12138×10 + 7000) / 14000 = 128380/14000 = 9
    }

    [Fact]
    public void Evaluate_NvSwitchTwoGpus_StaysOnOneSocketAndKeepsRestTogether()
    {
        // All pairs are NV18 (100 points), so link quality is 1000 for any pair. NUMA decides: a pair on one socket
        // scores 1000, across sockets 500. Among same-socket pairs the leftover is 6 GPUs, all NV18: equal, so the
        // lowest mask {0,1} wins.
        var verdict = Evaluate(NvSwitch, 0xFF, new GpuRequest(2, Interconnect.NvLink));
        Assert.Equal(0x03UL, verdict.Gpus);
    }

    [Fact]
    public void Evaluate_Pcie8TwoGpus_TakesPixPairNotPxb()
    {
        // GPU pairs {0,1},{2,3},{4,5},{6,7} share one switch (PIX 55): link = (165+55)×1000/400 = 550.
        // {0,2} is PXB 45: (135+45)×1000/400 = 450. PIX pair wins.
        var verdict = Evaluate(Pcie8, 0xFF, new GpuRequest(2, Interconnect.PcieSwitch));
        Assert.Equal(0x03UL, verdict.Gpus);
    }

    [Fact]
    public void Evaluate_Pcie8TwoGpusOnBusyNode_BestFitKeepsFreePairWhole()
    {
        // Free: {1} {2,3} {4,5}: GPU0 busy, 6 and 7 busy. Candidate PIX pairs are {2,3} and {4,5}; both leave 3 GPUs.
        // Taking {2,3} leaves {1,4,5}: largest PIX... the strongest tier of this shape is pcie-switch (PXB or better),
        // where {4,5} is the largest group (1 is PXB only to 2,3) → connectivity 1000×2/3 = 666.
        // Taking {4,5} leaves {1,2,3}: all PXB-or-better on socket 0 → 3/3 → 1000. Best fit takes {4,5}.
        var verdict = Evaluate(Pcie8, 0b0011_1110, new GpuRequest(2, Interconnect.PcieSwitch));
        Assert.Equal(0b0011_0000UL, verdict.Gpus);
    }

    [Fact]
    public void Evaluate_BusyNodeVersusEmptyNode_PrefersBusyNode()
    {
        // Same shape; one node empty, one with 4 of 8 busy. A 4-GPU NVLink request fills the busy node exactly
        // (leftover 1000) but leaves 4 on the empty node (leftover 750): the busy node scores 3×250 higher.
        var empty = Evaluate(NvSwitch, 0xFF, new GpuRequest(4, Interconnect.NvLink));
        var busy = Evaluate(NvSwitch, 0xF0, new GpuRequest(4, Interconnect.NvLink));
        Assert.Equal(750, busy.Score - empty.Score);
    }

    [Theory]
    [InlineData("bare metal required on a VM", MachinePolicy.RequireBareMetal, MachineKind.Vm, "bare metal required; node is a VM")]
    [InlineData("bare metal required, kind unknown", MachinePolicy.RequireBareMetal, MachineKind.Unknown, "bare metal required; node's machine kind is unknown")]
    [InlineData("VM required on metal", MachinePolicy.RequireVm, MachineKind.BareMetal, "VM required; node is bare metal")]
    public void Evaluate_MachineKindRequired_RejectsUnresolvably(string name, MachinePolicy policy, MachineKind node, string reason)
    {
        var verdict = Evaluate(NvSwitch, 0xFF, new GpuRequest(1, Machine: policy), new NodeContext(node));
        Assert.False(verdict.Feasible, name);
        Assert.True(verdict.Unresolvable);
        Assert.Equal(reason, verdict.ReasonText());
    }

    [Fact]
    public void Evaluate_MachineKindPreferred_ScoresMatchHigher()
    {
        // Preferred bare metal: metal 1000, VM 0 → difference = weight 2 × 1000.
        var request = new GpuRequest(1, Machine: MachinePolicy.PreferBareMetal);
        var metal = Evaluate(NvSwitch, 0xFF, request, new NodeContext(MachineKind.BareMetal));
        var vm = Evaluate(NvSwitch, 0xFF, request, new NodeContext(MachineKind.Vm));
        Assert.Equal(2000, metal.Score - vm.Score);
    }

    [Theory]
    [InlineData("too few GPUs on the node", 0xF, 8, Interconnect.Any, NicNeed.None, null, "needs 8 GPUs; node has 4", true)]
    [InlineData("not enough free", 0x1, 2, Interconnect.Any, NicNeed.None, null, "needs 2 free GPUs; 1 free", false)]
    [InlineData("NVLink pairs split", 0x5, 2, Interconnect.NvLink, NicNeed.None, null, "needs 2 NVLink-connected free GPUs; no two free GPUs share NVLink", false)]
    [InlineData("quad never NVLink on pairs", 0xF, 4, Interconnect.NvLink, NicNeed.None, null, "needs 4 NVLink-connected free GPUs; largest free NVLink group is 2", true)]
    [InlineData("product mismatch", 0xF, 1, Interconnect.Any, NicNeed.None, "*H100*", "needs 1 free GPU matching '*H100*'; 0 free GPUs do", true)]
    [InlineData("no NICs on this shape", 0xF, 1, Interconnect.Any, NicNeed.Required, null, "needs 1 free GPU with an RDMA NIC at PIX/PXB distance; 0 free GPUs have one", true)]
    public void Evaluate_V100Pairs_ExplainsWhy(string name, ulong free, int count, Interconnect tier, NicNeed nic, string? glob, string reason, bool unresolvable)
    {
        var verdict = Evaluate(Pairs4, free, new GpuRequest(count, tier, nic, ProductGlob: glob));
        Assert.False(verdict.Feasible, name);
        Assert.Equal(reason, verdict.ReasonText());
        Assert.Equal(unresolvable, verdict.Unresolvable);
    }

    [Theory]
    [InlineData("PIX SYS; SYS SYS; SYS PIX; SYS SYS", 2, "needs 2 NVLink-connected free GPUs; no two free GPUs that also meet the pod's NIC requirements share NVLink")]
    [InlineData("PIX SYS; PIX SYS; SYS PIX; SYS SYS", 3, "needs 3 NVLink-connected free GPUs; largest free NVLink group of GPUs that also meet the pod's NIC requirements is 2")]
    public void ReasonText_NvLinkCountedAmongNicGpus_SaysSo(string nics, int count, string reason)
    {
        // Two NVLink pairs (0-1, 2-3), all free, PIX NICs near some GPUs only: the group is counted among the GPUs with a
        // NIC. Before, the first said "no two free GPUs share NVLink", false with both pairs free.
        var shape = Catalog.GetOrAdd(Topologies.FromMatrix("X NV2 SYS SYS; NV2 X SYS SYS; SYS SYS X NV2; SYS SYS NV2 X", nicMatrix: nics, numa: [0, 0, 1, 1]));

        var verdict = Evaluate(shape, 0xF, new GpuRequest(count, Interconnect.NvLink, NicNeed.Required));

        Assert.False(verdict.Feasible);
        Assert.Equal(reason, verdict.ReasonText());
    }

    [Fact]
    public void ReasonText_LongProductGlob_SpellsItOut()
    {
        // Longer than any fixed formatting buffer: the reason still names the glob instead of an enum name.
        var glob = "*" + new string('x', 3000) + "*";
        var verdict = Evaluate(Pairs4, 0xF, new GpuRequest(1, ProductGlob: glob));
        Assert.Equal($"needs 1 free GPU matching '{glob}'; 0 free GPUs do", verdict.ReasonText());
    }

    [Fact]
    public void Evaluate_RdmaRequiredOnDgx1_TakesGpusWithPixNics()
    {
        // Every DGX-1V GPU has a PIX NIC, so a 2-GPU rdma=required nvlink request is feasible and gets NIC score 1000.
        var verdict = Evaluate(Dgx1, 0xFF, new GpuRequest(2, Interconnect.NvLink, NicNeed.Required));
        Assert.True(verdict.Feasible);
        Assert.Equal(1000, Engine.Explain(verdict.Request, Dgx1, 0xFF, verdict.Gpus, Metal).NicAffinity);
    }

    [Fact]
    public void Evaluate_UnknownTopology_NvLinkRequestNeedsAnnotation()
    {
        var unknown = Catalog.GetOrAdd(Topology.Model.NodeTopology.Unknown(8));
        var verdict = Evaluate(unknown, 0xFF, new GpuRequest(2, Interconnect.NvLink));
        Assert.Equal(Infeasibility.NoTopology, verdict.Reason);
        Assert.True(verdict.Unresolvable);
        Assert.True(Evaluate(unknown, 0xFF, new GpuRequest(2)).Feasible);
    }

    [Fact]
    public void Evaluate_64GpuIslands_HeuristicStaysInOneIsland()
    {
        var islands = Catalog.GetOrAdd(Topologies.Islands(64));
        var verdict = Evaluate(islands, ulong.MaxValue, new GpuRequest(8, Interconnect.NvLink));
        Assert.Equal(0xFFUL, verdict.Gpus);
        var split = Evaluate(islands, 0x0F0F_0F0F_0F0F_0F0FUL, new GpuRequest(8, Interconnect.NvLink));
        Assert.Equal("needs 8 NVLink-connected free GPUs; largest free NVLink group is 4", split.ReasonText());
    }

    [Fact]
    public void Catalog_SameHardwareDifferentUuids_SharesOneShape()
    {
        var catalog = new ShapeCatalog();
        var a = catalog.GetOrAdd(Topologies.Dgx1V100());
        var b = catalog.GetOrAdd(Topologies.Dgx1V100());
        var c = catalog.GetOrAdd(Topologies.NvSwitch8());
        Assert.Same(a, b);
        Assert.NotSame(a, c);
        Assert.Equal(2, catalog.Shapes.Count);
    }
}
