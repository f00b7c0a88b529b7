using SchedExt.Topology.Model;
using SchedExt.Topology.Shapes;

namespace SchedExt.Topology.Tests.Shapes;

/// <summary>The one-line shape summary: bind events and the extender's capacity gauge label (<c>shape</c>).</summary>
public sealed class ShapeDescriptionTests
{
    private readonly ShapeCatalog _catalog = new();

    [Fact]
    public void Describe_AnnotatedNodes_ProductBestLinkNumaAndNics()
    {
        Assert.Equal("8× NVIDIA H200 (best link NV18, 2 NUMA, 12 NIC)", _catalog.GetOrAdd(ReferenceTopologies.HgxH200).Description);
        Assert.Equal("8× Tesla V100-SXM2-32GB (best link NV2, 2 NUMA, 4 NIC)", _catalog.GetOrAdd(ReferenceTopologies.Dgx1V100).Description);
    }

    [Fact]
    public void Describe_NoTopology_NamesTheProduct()
    {
        // Two unannotated pools must not share one gauge label just because neither has a topology yet.
        Assert.Equal("8× NVIDIA H100 80GB HBM3 (no topology)", _catalog.GetOrAdd(NodeTopology.Unknown(8, "NVIDIA H100 80GB HBM3")).Description);
        Assert.Equal("4× GPU (no topology)", _catalog.GetOrAdd(NodeTopology.Unknown(4)).Description);
    }

    [Fact]
    public void Describe_OneGpuUnknownNuma_NoLinkAndSaysNumaUnknown()
    {
        var one = NodeTopology.Create([new GpuDevice(0, Product: "NVIDIA L4")], [], [], [Link.Self], []);

        Assert.Equal("1× NVIDIA L4 (NUMA unknown)", _catalog.GetOrAdd(one).Description);
    }
}
