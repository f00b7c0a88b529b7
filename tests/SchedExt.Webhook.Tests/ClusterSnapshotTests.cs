using SchedExt.Testing;
using SchedExt.Topology.Annotation;
using SchedExt.Topology.Requests;
using SchedExt.Webhook.Feasibility;

namespace SchedExt.Webhook.Tests;

public sealed class ClusterSnapshotTests
{
    [Fact]
    public void Parse_KubernetesList_ReadsNodesAndNamespacesAndSkipsPods()
    {
        var (nodes, namespaces) = SnapshotFileSource.Parse(TestData.ReadText("webhook", "cluster.yaml"));

        Assert.Equal(7, nodes.Count);
        Assert.Equal(["default", "demo", "research", "locked"], namespaces.Select(n => n.Metadata.Name));
        var facts = NodeFactsReader.FromNode(nodes[0], SchedExtKeys.GpuResource);
        Assert.Equal("dgx-h100-0", facts.Name);
        Assert.Equal(8, facts.AllocatableGpus);
        Assert.Equal(MachineKind.BareMetal, facts.Machine);
        Assert.StartsWith("{\"v\":1", facts.TopologyAnnotation, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MultiDocumentYaml_ReadsEveryDocument()
    {
        const string Text = """
            apiVersion: v1
            kind: Node
            metadata: {name: a, labels: {schedext.io/machine: vm}}
            status: {allocatable: {nvidia.com/gpu: "2"}}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: p}
            ---
            apiVersion: v1
            kind: Namespace
            metadata: {name: team, labels: {tier: gold}}
            """;

        var (nodes, namespaces) = SnapshotFileSource.Parse(Text);

        var node = Assert.Single(nodes);
        Assert.Equal(new NodeFacts("a", null, 2, MachineKind.Vm), NodeFactsReader.FromNode(node, SchedExtKeys.GpuResource));
        Assert.Equal("gold", NodeFactsReader.LabelsOf(Assert.Single(namespaces))["tier"]);
    }

    [Fact]
    public void Parse_JsonList_ReadsItems()
    {
        const string Text = """{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"},"status":{"allocatable":{"nvidia.com/gpu":"8"}}}]}""";

        var (nodes, _) = SnapshotFileSource.Parse(Text);

        Assert.Equal(8, NodeFactsReader.FromNode(Assert.Single(nodes), SchedExtKeys.GpuResource).AllocatableGpus);
    }

    [Fact]
    public void Publish_NodeWithoutAnnotation_UsesGpuFeatureDiscoveryProduct()
    {
        var view = NewView();
        var node = KubeObjects.Node("gfd-0", 4, labels: new Dictionary<string, string> { [SchedExtKeys.GpuProductLabel] = "NVIDIA-L40S" });

        var snapshot = view.Publish([NodeFactsReader.FromNode(node, SchedExtKeys.GpuResource)], new Dictionary<string, IReadOnlyDictionary<string, string>>(), "test");

        var shape = Assert.Single(snapshot.Shapes).Shape;
        Assert.False(shape.IsKnown);
        Assert.All(shape.Topology.Gpus, g => Assert.Equal("NVIDIA-L40S", g.Product));
        Assert.True(new ShapeFeasibility(new SchedExt.Topology.Search.PlacementEngine(SchedExt.Topology.Scoring.ScoreWeights.Default))
            .Check(new GpuRequest(2, ProductGlob: "*L40S*"), snapshot).Feasible);
    }

    [Fact]
    public void Publish_GfdMemoryLabel_FillsWhatTheAnnotationLeavesOut()
    {
        // The extender reads the same label the same way (NodeReaderGfdTests): admission and placement agree.
        var unannotated = KubeObjects.Node("gfd-0", 8, labels: Memory("81559"));
        var annotated = KubeObjects.Node("dgx-0", 8, TopologyAnnotation.Serialize(Topologies.NvSwitch8().WithGpus(g => g with { MemoryMiB = 0 })), Memory("81559"));
        var request = new GpuRequest(8, MinMemoryMiB: 79 * 1024);
        var feasibility = new ShapeFeasibility(new SchedExt.Topology.Search.PlacementEngine(SchedExt.Topology.Scoring.ScoreWeights.Default));

        foreach (var node in new[] { unannotated, annotated })
        {
            var facts = NodeFactsReader.FromNode(node, SchedExtKeys.GpuResource);
            Assert.Equal(81559, facts.GpuMemoryMiB);
            var snapshot = NewView().Publish([facts], new Dictionary<string, IReadOnlyDictionary<string, string>>(), "test");
            Assert.All(Assert.Single(snapshot.Shapes).Shape.Topology.Gpus, g => Assert.Equal(81559, g.MemoryMiB));
            Assert.True(feasibility.Check(request, snapshot).Feasible, node.Metadata.Name);
        }

        var unlabelled = NewView().Publish([NodeFactsReader.FromNode(KubeObjects.Node("bare-0", 8), SchedExtKeys.GpuResource)], new Dictionary<string, IReadOnlyDictionary<string, string>>(), "test");
        Assert.False(feasibility.Check(request, unlabelled).Feasible);
    }

    [Fact]
    public void Publish_AnnotationDisagreesWithAllocatable_NodeReadAsUnknownLikeTheExtender()
    {
        // MIG "single": the device plugin offers 56 slices, the annotation describes the 8 physical GPUs. The extender
        // does not use such an annotation (NodeReader); admitting an NVLink request here would leave the pod pending.
        var mig = KubeObjects.Node("mig-0", 56, TopologyAnnotation.Serialize(Topologies.NvSwitch8()));
        var snapshot = NewView().Publish([NodeFactsReader.FromNode(mig, SchedExtKeys.GpuResource)], new Dictionary<string, IReadOnlyDictionary<string, string>>(), "test");

        var shape = Assert.Single(snapshot.Shapes).Shape;
        Assert.False(shape.IsKnown);
        Assert.Equal(56, shape.GpuCount);
        var feasibility = new ShapeFeasibility(new SchedExt.Topology.Search.PlacementEngine(SchedExt.Topology.Scoring.ScoreWeights.Default));
        Assert.False(feasibility.Check(new GpuRequest(8, Interconnect.NvLink), snapshot).Feasible);
    }

    private static Dictionary<string, string> Memory(string mib) => new() { [SchedExtKeys.GpuMemoryLabel] = mib };

    private static ClusterView NewView() => new(
        Microsoft.Extensions.Options.Options.Create(new Hosting.WebhookOptions()),
        new ClusterAccess(Available: false),
        new SchedExt.Topology.Shapes.ShapeCatalog(),
        Microsoft.Extensions.Logging.Abstractions.NullLogger<ClusterView>.Instance,
        new Diagnostics.WebhookMetrics());
}
