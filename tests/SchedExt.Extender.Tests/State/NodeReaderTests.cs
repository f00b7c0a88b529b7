using SchedExt.Extender.Sources;
using SchedExt.Testing;
using SchedExt.Topology.Annotation;
using SchedExt.Topology.Model;
using SchedExt.Topology.Requests;
using SchedExt.Topology.Shapes;

namespace SchedExt.Extender.Tests.State;

public class NodeReaderTests
{
    private static readonly string H200 = TopologyAnnotation.Serialize(ReferenceTopologies.HgxH200);

    [Fact]
    public void Read_ValidAnnotation_UsesTopologyAndSharedShape()
    {
        var kit = new SourceKit();

        var info = kit.NodeReader.Read(KubeObjects.Node("gpu-1", 8, H200));

        Assert.NotNull(info);
        Assert.Equal("gpu-1", info.Name);
        Assert.Null(info.TopologyProblem);
        Assert.True(info.Topology.IsKnown);
        Assert.True(info.Topology.StructurallyEquals(ReferenceTopologies.HgxH200));
        Assert.Same(kit.Catalog.GetOrAdd(ReferenceTopologies.HgxH200), info.Shape);
        Assert.Empty(kit.NodeLog.Entries);
    }

    [Theory]
    [InlineData("no allocatable entry", null)]
    [InlineData("zero GPUs", 0)]
    public void Read_NoManagedGpus_Null(string name, int? gpus)
    {
        Assert.NotNull(name);
        Assert.Null(new SourceKit().NodeReader.Read(KubeObjects.Node("cpu-1", gpus, H200)));
    }

    [Fact]
    public void Read_ConfiguredGpuResource_CountsThatResource()
    {
        var kit = new SourceKit(new ExtenderOptions { GpuResourceName = "amd.com/gpu" });

        Assert.Null(kit.NodeReader.Read(KubeObjects.Node("n", 8)));
        Assert.Equal(4, kit.NodeReader.Read(KubeObjects.Node("n", 4, gpuResource: "amd.com/gpu"))?.Topology.GpuCount);
    }

    [Fact]
    public void Read_MissingAnnotation_UnknownTopologyWithReason()
    {
        var info = new SourceKit().NodeReader.Read(KubeObjects.Node("gpu-1", 4));

        Assert.NotNull(info);
        Assert.False(info.Topology.IsKnown);
        Assert.Equal(4, info.Topology.GpuCount);
        Assert.Equal("no schedext.io/topology annotation", info.TopologyProblem);
    }

    [Theory]
    [InlineData("not JSON", "{nope")]
    [InlineData("wrong version", """{"v":2,"gpus":[],"gpuLinks":[]}""")]
    [InlineData("asymmetric links", """{"v":1,"gpus":[{"i":0},{"i":1}],"gpuLinks":["X NV1","NV2 X"]}""")]
    public void Read_MalformedAnnotation_UnknownTopologyWithParserMessage(string name, string annotation)
    {
        Assert.NotNull(name);
        var expected = Assert.Throws<TopologyFormatException>(() => TopologyAnnotation.Parse(annotation)).Message;
        var kit = new SourceKit();

        var info = kit.NodeReader.Read(KubeObjects.Node("gpu-1", 2, annotation));

        Assert.NotNull(info);
        Assert.False(info.Topology.IsKnown);
        Assert.Equal(2, info.Topology.GpuCount);
        Assert.Equal("malformed: " + expected, info.TopologyProblem);
        Assert.DoesNotContain("\n", info.TopologyProblem, StringComparison.Ordinal);
        Assert.Contains(kit.NodeLog.Entries, e => e.Id.Id == 2001 && e.Message.Contains("gpu-1", StringComparison.Ordinal));
    }

    [Fact]
    public void Read_AnnotationCountDiffersFromAllocatable_UnknownTopologyOfAllocatableCount()
    {
        var info = new SourceKit().NodeReader.Read(KubeObjects.Node("gpu-1", 4, H200));

        Assert.NotNull(info);
        Assert.False(info.Topology.IsKnown);
        Assert.Equal(4, info.Topology.GpuCount);
        Assert.Equal("annotation describes 8 GPUs but allocatable nvidia.com/gpu is 4", info.TopologyProblem);
    }

    [Theory]
    [InlineData("explicit bare metal", "schedext.io/machine=bare-metal", MachineKind.BareMetal)]
    [InlineData("explicit vm", "schedext.io/machine=vm", MachineKind.Vm)]
    [InlineData("explicit wins over rule", "schedext.io/machine=bare-metal;feature.node.kubernetes.io/cpu-cpuid.HYPERVISOR=true", MachineKind.BareMetal)]
    [InlineData("default NFD rule", "feature.node.kubernetes.io/cpu-cpuid.HYPERVISOR=true", MachineKind.Vm)]
    [InlineData("rule value differs", "feature.node.kubernetes.io/cpu-cpuid.HYPERVISOR=false", MachineKind.Unknown)]
    [InlineData("invalid explicit falls back to rules", "schedext.io/machine=metal;feature.node.kubernetes.io/cpu-cpuid.HYPERVISOR=true", MachineKind.Vm)]
    [InlineData("no labels", "", MachineKind.Unknown)]
    public void Read_MachineLabels_Kind(string name, string labels, MachineKind expected)
    {
        Assert.NotNull(name);
        var info = new SourceKit().NodeReader.Read(KubeObjects.Node("gpu-1", 8, H200, Labels(labels)));

        Assert.Equal(expected, info?.Machine);
    }

    [Fact]
    public void Read_ConfiguredRules_FirstMatchWinsAndNullValueMatchesAnyValue()
    {
        var options = new ExtenderOptions
        {
            MachineRules =
            [
                new() { Label = "cloud.example.com/instance-type", Kind = "vm" },
                new() { Label = "example.com/metal", Value = "yes", Kind = "bare-metal" },
                new() { Label = "example.com/metal", Value = "yes", Kind = "mainframe" },
            ],
        };
        var kit = new SourceKit(options);

        Assert.Equal(MachineKind.Vm, kit.NodeReader.Read(KubeObjects.Node("a", 8, H200, Labels("cloud.example.com/instance-type=g5;example.com/metal=yes")))?.Machine);
        Assert.Equal(MachineKind.BareMetal, kit.NodeReader.Read(KubeObjects.Node("b", 8, H200, Labels("example.com/metal=yes")))?.Machine);
        Assert.Contains(kit.NodeLog.Entries, e => e.Id.Id == 2003 && e.Message.Contains("mainframe", StringComparison.Ordinal));
    }

    [Fact]
    public void Read_ConfiguredRackAndBlockLabels_Located()
    {
        var kit = new SourceKit(new ExtenderOptions { RackLabel = "topology.example.com/rack", BlockLabel = "topology.example.com/pod" });

        var info = kit.NodeReader.Read(KubeObjects.Node("gpu-1", 8, H200, Labels("topology.example.com/rack=r7;topology.example.com/pod=p2;schedext.io/rack=ignored")));

        Assert.Equal(("r7", "p2"), (info?.Rack, info?.Block));
    }

    [Fact]
    public void Read_GfdProductLabel_FillsMissingProducts()
    {
        var bare = Topologies.FromMatrix("X NV12;NV12 X");
        var kit = new SourceKit();

        var info = kit.NodeReader.Read(KubeObjects.Node("gpu-1", 2, TopologyAnnotation.Serialize(bare), Labels("nvidia.com/gpu.product=NVIDIA-A100-SXM4-80GB")));

        Assert.NotNull(info);
        Assert.All(info.Topology.Gpus, g => Assert.Equal("NVIDIA-A100-SXM4-80GB", g.Product));
        Assert.Equal(bare.GpuLink(0, 1), info.Topology.GpuLink(0, 1));
        Assert.Equal(info.Topology.Gpus.Select(g => g.Uuid), bare.Gpus.Select(g => g.Uuid));
    }

    [Fact]
    public void Read_GfdProductLabel_KeepsAnnotatedProducts()
    {
        var info = new SourceKit().NodeReader.Read(KubeObjects.Node("gpu-1", 8, H200, Labels("nvidia.com/gpu.product=Something-Else")));

        Assert.All(info!.Topology.Gpus, g => Assert.Equal("NVIDIA H200", g.Product));
    }

    [Fact]
    public void Read_SameAnnotationAgain_DoesNotParseAgain()
    {
        var kit = new SourceKit();
        var node = KubeObjects.Node("gpu-1", 8, H200);

        var first = kit.NodeReader.Read(node);
        node.Metadata.Labels["heartbeat"] = "2";
        var second = kit.NodeReader.Read(node);
        node.Metadata.Annotations["schedext.io/topology"] = TopologyAnnotation.Serialize(ReferenceTopologies.Dgx1V100);
        var third = kit.NodeReader.Read(node);

        Assert.Same(first!.Topology, second!.Topology);
        Assert.NotSame(second.Topology, third!.Topology);
        Assert.True(third.Topology.StructurallyEquals(ReferenceTopologies.Dgx1V100));
    }

    [Fact]
    public void Read_NodesDifferingOnlyInUuids_ShareOneShape()
    {
        var kit = new SourceKit();
        var other = ReferenceTopologies.HgxH200.WithGpus(g => g with { Uuid = $"GPU-other-{g.Index}" });

        var a = kit.NodeReader.Read(KubeObjects.Node("a", 8, H200));
        var b = kit.NodeReader.Read(KubeObjects.Node("b", 8, TopologyAnnotation.Serialize(other)));

        Assert.Same(a!.Shape, b!.Shape);
        Assert.Equal("GPU-other-0", b.Topology.Gpus[0].Uuid);
    }

    private static Dictionary<string, string> Labels(string spec) =>
        spec.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
}
