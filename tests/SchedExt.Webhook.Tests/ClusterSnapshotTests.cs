using SchedExt.Testing;
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
}
