using SchedExt.Simulator.Engine;
using SchedExt.Topology.Shapes;

namespace SchedExt.Simulator.Tests;

public class ShapeFactsTests
{
    private static ShapeFacts Of(Topology.Model.NodeTopology topology) => new(new ShapeCatalog().GetOrAdd(topology));

    [Theory]
    // DGX-1V: 4-GPU NVLink sets are the quads {0..3} and {4..7} only.
    [InlineData("all free: two quads", 0xFFUL, 0)]
    [InlineData("one quad free", 0x0FUL, 0)]
    [InlineData("quad plus one", 0x1FUL, 1)]
    [InlineData("0,1,6,7: four free, no quad", 0xC3UL, 4)]
    [InlineData("2,3,4,5: four free, no quad", 0x3CUL, 4)]
    [InlineData("three free", 0x07UL, 3)]
    public void Stranded_Dgx1FourGpuNvLink_CountsFreeGpusOutsideFreeQuads(string name, ulong free, int expected)
    {
        _ = name;
        Assert.Equal(expected, Of(ReferenceTopologies.Dgx1V100).Stranded(0, free));
    }

    [Fact]
    public void Stranded_Dgx1EightGpuNvLink_IsZeroBecauseItCanNeverHostOne()
    {
        // Not fragmentation: an empty DGX-1V cannot take an 8-GPU NVLink job either.
        var facts = Of(ReferenceTopologies.Dgx1V100);
        Assert.False(facts.CanHost(1));
        Assert.Equal(0, facts.Stranded(1, 0x7F));
    }

    [Theory]
    // HGX H200: every pair NVLink through NVSwitch, so only counts matter.
    [InlineData(0xFFUL, 0, 0)]
    [InlineData(0x7FUL, 0, 3)]
    [InlineData(0x7FUL, 1, 7)]
    [InlineData(0xFFUL, 1, 0)]
    public void Stranded_HgxH200_DependsOnCountOnly(ulong free, int sizeIndex, int expected)
    {
        Assert.Equal(expected, Of(ReferenceTopologies.HgxH200).Stranded(sizeIndex, free));
    }

    [Fact]
    public void Stranded_Dgx2SixteenGpus_PacksFourQuads()
    {
        var facts = Of(ReferenceTopologies.Dgx2V100);
        Assert.Equal(0, facts.Stranded(0, 0xFFFF));
        Assert.Equal(2, facts.Stranded(0, 0x3FFF));
    }

    [Fact]
    public void SpansNumaAndNvLink_Dgx1_FollowTheMatrix()
    {
        var facts = Of(ReferenceTopologies.Dgx1V100);
        Assert.Equal(4, facts.LargestNuma);
        Assert.False(facts.SpansNuma(0x0F));
        Assert.True(facts.SpansNuma(0x11));
        Assert.True(facts.IsAllNvLink(0x11));  // 0-4 is NV2
        Assert.False(facts.IsAllNvLink(0x21)); // 0-5 is SYS
    }
}
