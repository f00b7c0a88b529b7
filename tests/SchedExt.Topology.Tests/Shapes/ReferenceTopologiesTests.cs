using SchedExt.Testing;
using SchedExt.Topology.Model;
using SchedExt.Topology.Parsing;
using SchedExt.Topology.Shapes;

namespace SchedExt.Topology.Tests.Shapes;

public sealed class ReferenceTopologiesTests
{
    [Fact]
    public void HgxH200_ParsedSampleWithProduct()
    {
        var t = ReferenceTopologies.HgxH200;

        Assert.Equal(8, t.GpuCount);
        Assert.All(t.Gpus, g => Assert.Equal(("NVIDIA H200", 143771), (g.Product, g.MemoryMiB)));
        Assert.Equal(Link.NvLink(18), t.GpuLink(3, 4));
        Assert.Equal(12, t.Nics.Count);
        Assert.Equal([0, 0, 0, 0, 1, 1, 1, 1], t.Gpus.Select(g => g.NumaNode));
    }

    [Fact]
    public void Dgx1V100_HybridCubeMeshWithSocketsFromCpuAffinity()
    {
        var t = ReferenceTopologies.Dgx1V100;

        Assert.All(t.Gpus, g => Assert.Equal(("Tesla V100-SXM2-32GB", 32768), (g.Product, g.MemoryMiB)));
        Assert.Equal(Link.NvLink(2), t.GpuLink(0, 3));
        Assert.Equal(Link.Sys, t.GpuLink(0, 5));
        Assert.Equal([0, 0, 0, 0, 1, 1, 1, 1], t.Gpus.Select(g => g.NumaNode));
        Assert.Equal([new NicDevice("mlx5_0", 0), new NicDevice("mlx5_2", 1), new NicDevice("mlx5_1", 0), new NicDevice("mlx5_3", 1)], t.Nics);
        Assert.Equal([new NumaNodeInfo(0, "0-19,40-59"), new NumaNodeInfo(1, "20-39,60-79")], t.NumaNodes);
    }

    [Fact]
    public void Rtx5090Workstation_PhbPair()
    {
        var t = ReferenceTopologies.Rtx5090Workstation;

        Assert.Equal(2, t.GpuCount);
        Assert.Equal(Link.Phb, t.GpuLink(0, 1));
        Assert.All(t.Gpus, g => Assert.Equal(("NVIDIA GeForce RTX 5090", 32607), (g.Product, g.MemoryMiB)));
        Assert.Empty(t.Nics);
    }

    [Theory]
    [InlineData("same pair", 0, 1, "PIX")]
    [InlineData("other pair, same socket", 1, 2, "PXB")]
    [InlineData("across sockets", 3, 4, "SYS")]
    [InlineData("second socket pair", 6, 7, "PIX")]
    public void Pcie8TwoSocket_GpuLinks(string name, int a, int b, string link)
    {
        _ = name;
        Assert.Equal(Link.Parse(link), ReferenceTopologies.Pcie8TwoSocket.GpuLink(a, b));
    }

    [Fact]
    public void Pcie8TwoSocket_OneNicPerSocket()
    {
        var t = ReferenceTopologies.Pcie8TwoSocket;

        Assert.Equal([new NicDevice("mlx5_0", 0), new NicDevice("mlx5_1", 1)], t.Nics);
        Assert.Equal([Link.Pix, Link.Pix, Link.Pxb, Link.Pxb, Link.Sys, Link.Sys, Link.Sys, Link.Sys], Enumerable.Range(0, 8).Select(g => t.NicLink(g, 0)));
        Assert.Equal([Link.Sys, Link.Sys, Link.Sys, Link.Sys, Link.Pix, Link.Pix, Link.Pxb, Link.Pxb], Enumerable.Range(0, 8).Select(g => t.NicLink(g, 1)));
        Assert.All(t.Gpus, g => Assert.Equal(("NVIDIA L40S", 46068), (g.Product, g.MemoryMiB)));
    }

    [Fact]
    public void V100Pairs4_NvLinkPairsOnSeparateSockets()
    {
        var t = ReferenceTopologies.V100Pairs4;

        Assert.Equal(Link.NvLink(2), t.GpuLink(0, 1));
        Assert.Equal(Link.NvLink(2), t.GpuLink(2, 3));
        Assert.Equal(Link.Sys, t.GpuLink(1, 2));
        Assert.Equal(Link.Sys, t.GpuLink(0, 3));
        Assert.Equal([0, 0, 1, 1], t.Gpus.Select(g => g.NumaNode));
        Assert.Empty(t.Nics);
    }

    [Fact]
    public void Dgx2V100_AllNv6WithEightNics()
    {
        var t = ReferenceTopologies.Dgx2V100;

        Assert.Equal(16, t.GpuCount);
        for (var a = 0; a < 16; a++)
        {
            for (var b = 0; b < 16; b++)
            {
                Assert.Equal(a == b ? Link.Self : Link.NvLink(6), t.GpuLink(a, b));
            }
        }

        Assert.Equal(8, t.Nics.Count);
        Assert.Equal([Link.Pix, Link.Pxb, Link.Node, Link.Node, Link.Sys, Link.Sys, Link.Sys, Link.Sys], Enumerable.Range(0, 8).Select(n => t.NicLink(0, n)));
        Assert.Equal([Link.Sys, Link.Sys, Link.Sys, Link.Sys, Link.Node, Link.Node, Link.Pxb, Link.Pix], Enumerable.Range(0, 8).Select(n => t.NicLink(15, n)));
        Assert.Equal([0, 0, 0, 0, 1, 1, 1, 1], t.Nics.Select(n => n.NumaNode));
        Assert.Equal(Enumerable.Range(0, 16).Select(g => g / 8), t.Gpus.Select(g => g.NumaNode));
    }

    [Theory]
    [InlineData(32, 8, 2)]
    [InlineData(64, 8, 2)]
    [InlineData(64, 64, 4)]
    [InlineData(48, 16, 3)]
    public void Synthetic_LinksFollowGroupsAndSockets(int gpus, int group, int sockets)
    {
        var t = ReferenceTopologies.Synthetic(gpus, group, nvLinks: 12, sockets: sockets);

        Assert.Equal(gpus, t.GpuCount);
        Assert.Equal(gpus / 2, t.Nics.Count);
        Assert.Equal(sockets, t.NumaNodes.Count);
        var perSocket = gpus / sockets;
        for (var a = 0; a < gpus; a++)
        {
            Assert.Equal(a / perSocket, t.Gpus[a].NumaNode);
            for (var b = 0; b < gpus; b++)
            {
                var expected = a == b ? Link.Self
                    : a / group == b / group ? Link.NvLink(12)
                    : a / perSocket == b / perSocket ? Link.Node
                    : Link.Sys;
                Assert.Equal(expected, t.GpuLink(a, b));
            }

            Assert.Equal([t.Nics[a / 2].Name], t.NearNics(a));
        }
    }

    [Theory]
    [InlineData("zero GPUs", 0, 8, 2, 2)]
    [InlineData("over 64 GPUs", 72, 8, 2, 2)]
    [InlineData("uneven NVLink groups", 36, 8, 2, 2)]
    [InlineData("uneven sockets", 32, 8, 3, 2)]
    [InlineData("uneven NICs", 32, 8, 2, 3)]
    [InlineData("no sockets", 32, 8, 0, 2)]
    public void Synthetic_InvalidShape_Throws(string name, int gpus, int group, int sockets, int gpusPerNic)
    {
        _ = name;
        Assert.ThrowsAny<ArgumentException>(() => ReferenceTopologies.Synthetic(gpus, group, sockets: sockets, gpusPerNic: gpusPerNic));
    }

    [Fact]
    public void Synthetic_NoNics_HasNone()
    {
        Assert.Empty(ReferenceTopologies.Synthetic(16, gpusPerNic: 0).Nics);
    }

    [Fact]
    public void Find_EveryName_ReturnsTheSameInstanceEachTime()
    {
        foreach (var name in ReferenceTopologies.Names)
        {
            var first = ReferenceTopologies.Find(name);

            Assert.NotNull(first);
            Assert.Same(first, ReferenceTopologies.Find(name));
        }

        Assert.Null(ReferenceTopologies.Find("dgx-h100"));
    }

    [Theory]
    [InlineData("hgx-h200_8gpu_12nic_distributedai.txt", "hgx-h200")]
    [InlineData("dgx1-v100_hybrid-cube-mesh_msccl-tools.txt", "dgx1-v100")]
    [InlineData("2x-rtx5090_workstation_PHB_club3090-issue1229.txt", "rtx5090-workstation")]
    public void EmbeddedSample_MatchesTestDataCopy(string file, string name)
    {
        var fromTestData = NvidiaSmiTopologyParser.Parse(TestData.ReadText("nvidia-smi-topo", file));
        var reference = ReferenceTopologies.Find(name)!;

        Assert.Equal(fromTestData.GpuCount, reference.GpuCount);
        Assert.Equal(fromTestData.Nics.Select(n => n.Name), reference.Nics.Select(n => n.Name));
        for (var a = 0; a < reference.GpuCount; a++)
        {
            for (var b = 0; b < reference.GpuCount; b++)
            {
                Assert.Equal(fromTestData.GpuLink(a, b), reference.GpuLink(a, b));
            }

            for (var j = 0; j < reference.Nics.Count; j++)
            {
                Assert.Equal(fromTestData.NicLink(a, j), reference.NicLink(a, j));
            }
        }
    }
}
