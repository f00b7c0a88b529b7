using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SchedExt.Extender.Sources;
using SchedExt.Extender.State;
using SchedExt.Testing;
using SchedExt.Topology.Requests;
using SchedExt.Topology.Shapes;

namespace SchedExt.Extender.Tests.State;

public sealed class UnassignedGpuPodTests
{
    [Theory]
    [InlineData("placed by another scheduler, no annotation", null)]
    [InlineData("annotation unreadable", "0,,1")]
    public void Snapshot_BoundGpuPodWithoutValidAssignment_TakesWholeNode(string name, string? annotation)
    {
        var pod = KubeObjects.Pod("other", "foreign", "n1", annotation);
        pod.Spec.Containers[0].Resources = new V1ResourceRequirements { Limits = new Dictionary<string, ResourceQuantity> { [SchedExtKeys.GpuResource] = new("2") } };
        var allocation = new PodReader(NullLogger<PodReader>.Instance).Read(pod);
        Assert.True(allocation is { UnassignedGpus: 2, Gpus: 0 }, name);

        var catalog = new ShapeCatalog();
        var state = new ClusterState(catalog, new FakeTimeProvider());
        var topology = ReferenceTopologies.Dgx1V100;
        state.ReplaceAll([new NodeInfo("n1", topology, catalog.GetOrAdd(topology), MachineKind.BareMetal, null, null, null)], [allocation!]);
        Assert.Equal(0UL, state.Current.FindNode("n1")!.FreeGpus);
    }

    [Fact]
    public void Read_BoundPodWithoutGpus_IsNotAnAllocation()
    {
        Assert.Null(new PodReader(NullLogger<PodReader>.Instance).Read(KubeObjects.Pod("web", "nginx", "n1", null)));
    }
}
