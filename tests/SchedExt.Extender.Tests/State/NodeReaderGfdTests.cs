using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SchedExt.Extender.Sources;
using SchedExt.Testing;
using SchedExt.Topology.Annotation;
using SchedExt.Topology.Requests;
using SchedExt.Topology.Search;
using SchedExt.Topology.Scoring;
using SchedExt.Topology.Shapes;

namespace SchedExt.Extender.Tests.State;

public sealed class NodeReaderGfdTests
{
    [Fact]
    public void Read_NoAnnotationButGfdProductLabel_ProductGlobStillMatches()
    {
        var reader = new NodeReader(new ShapeCatalog(), Options.Create(new ExtenderOptions()), NullLogger<NodeReader>.Instance);
        V1Node node = KubeObjects.Node("gfd-only", 4, labels: new Dictionary<string, string> { [SchedExtKeys.GpuProductLabel] = "NVIDIA-A100-SXM4-80GB" });
        var info = reader.Read(node)!;
        Assert.False(info.Topology.IsKnown);
        var engine = new PlacementEngine(ScoreWeights.Default);
        var verdict = engine.Evaluate(engine.Compile(new GpuRequest(2, ProductGlob: "*A100*")), info.Shape, info.Shape.AllGpus, new NodeContext(MachineKind.Unknown));
        Assert.True(verdict.Feasible, verdict.ReasonText());
    }

    [Fact]
    public void Read_NoAnnotationButGfdMemoryLabel_MemoryMinimumMatches()
    {
        // The shipped train-8x-h100 profile asks for 79Gi; without the label the node's memory is unknown and it fails.
        var request = new GpuRequest(8, MinMemoryMiB: 79 * 1024);
        Assert.True(Evaluate(Read(KubeObjects.Node("gfd", 8, labels: Gfd("81559"))), request).Feasible);
        Assert.False(Evaluate(Read(KubeObjects.Node("bare", 8)), request).Feasible);
        Assert.False(Evaluate(Read(KubeObjects.Node("small", 8, labels: Gfd("40960"))), request).Feasible);
    }

    [Theory]
    [InlineData("80GB")]
    [InlineData("-1")]
    [InlineData("0")]
    [InlineData(" 81559")]
    [InlineData("99999999999")]
    public void Read_GfdMemoryLabelNotAWholeMiBCount_TreatedAsAbsent(string value)
    {
        var info = Read(KubeObjects.Node("odd", 2, labels: Gfd(value)));

        Assert.All(info.Topology.Gpus, g => Assert.Equal(0, g.MemoryMiB));
    }

    [Fact]
    public void Read_AnnotationWithoutMemory_LabelFillsIt_AnnotationWithMemory_Kept()
    {
        var withMemory = TopologyAnnotation.Serialize(Topologies.NvSwitch8());
        var withoutMemory = TopologyAnnotation.Serialize(Topologies.NvSwitch8().WithGpus(g => g with { MemoryMiB = 0 }));

        var filled = Read(KubeObjects.Node("a", 8, withoutMemory, Gfd("80000")));
        var kept = Read(KubeObjects.Node("b", 8, withMemory, Gfd("1024")));

        Assert.True(filled.Topology.IsKnown);
        Assert.All(filled.Topology.Gpus, g => Assert.Equal(80000, g.MemoryMiB));
        Assert.Equal(Topologies.NvSwitch8().Gpus.Select(g => g.MemoryMiB), kept.Topology.Gpus.Select(g => g.MemoryMiB));
    }

    [Fact]
    public void Read_GfdMemoryLabelChanges_NodeReadAgain()
    {
        var reader = NewReader();
        var before = reader.Read(KubeObjects.Node("n", 4, labels: Gfd("40960")))!;
        var after = reader.Read(KubeObjects.Node("n", 4, labels: Gfd("81920")))!;

        Assert.Equal(40960, before.Topology.Gpus[0].MemoryMiB);
        Assert.Equal(81920, after.Topology.Gpus[0].MemoryMiB);
    }

    private static Dictionary<string, string> Gfd(string memory) => new() { [SchedExtKeys.GpuMemoryLabel] = memory };

    private static NodeReader NewReader() => new(new ShapeCatalog(), Options.Create(new ExtenderOptions()), NullLogger<NodeReader>.Instance);

    private static SchedExt.Extender.State.NodeInfo Read(V1Node node) => NewReader().Read(node)!;

    private static NodeVerdict Evaluate(SchedExt.Extender.State.NodeInfo info, GpuRequest request)
    {
        var engine = new PlacementEngine(ScoreWeights.Default);
        return engine.Evaluate(engine.Compile(request), info.Shape, info.Shape.AllGpus, new NodeContext(MachineKind.Unknown));
    }
}
