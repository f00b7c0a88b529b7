using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SchedExt.Extender.Sources;
using SchedExt.Testing;
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
}
