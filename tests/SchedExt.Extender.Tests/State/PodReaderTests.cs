using k8s.Models;
using SchedExt.Testing;

namespace SchedExt.Extender.Tests.State;

public class PodReaderTests
{
    [Theory]
    [InlineData("running with GPUs", "gpu-1", "Running", "0,1,2,3", 0b1111UL)]
    [InlineData("pending but bound", "gpu-1", "Pending", "5", 0b10_0000UL)]
    [InlineData("unknown phase", "gpu-1", "Unknown", "7", 0b1000_0000UL)]
    [InlineData("not bound", null, "Pending", "0", null)]
    [InlineData("succeeded", "gpu-1", "Succeeded", "0", null)]
    [InlineData("failed", "gpu-1", "Failed", "0", null)]
    [InlineData("no annotation", "gpu-1", "Running", null, null)]
    public void Read_PodStates_AllocationOnlyWhenHoldingGpus(string name, string? node, string phase, string? assigned, ulong? expected)
    {
        Assert.NotNull(name);
        var allocation = new SourceKit().PodReader.Read(KubeObjects.Pod("ml", "p", node, assigned, phase));

        Assert.Equal(expected, allocation?.Gpus);
        if (allocation is not null)
        {
            Assert.Equal(("uid-ml-p", "ml", "p", node), (allocation.Uid, allocation.Namespace, allocation.Name, allocation.Node));
        }
    }

    [Theory]
    [InlineData("names fewer than held", "0", 4, 3)]
    [InlineData("names all held", "0,1,2,3", 4, 0)]
    [InlineData("names more than held", "0,1", 1, 0)]
    public void Read_AnnotationAndGpuCount_GpusItDoesNotNameAreUnassigned(string name, string assigned, int limit, int unassigned)
    {
        // A bound pod whose schedext.io/assigned-gpus names fewer GPUs than it holds (a manifest copied from another pod,
        // a pod placed by another scheduler): the GPUs it does not name are in use somewhere on the node. Before, they
        // vanished from the state and could be handed out again.
        var pod = KubeObjects.Pod("ml", "p", "gpu-1", assigned);
        pod.Spec.Containers[0].Resources = new V1ResourceRequirements
        {
            Limits = new Dictionary<string, ResourceQuantity> { [Topology.Requests.SchedExtKeys.GpuResource] = new(limit.ToString(System.Globalization.CultureInfo.InvariantCulture)) },
        };

        var allocation = new SourceKit().PodReader.Read(pod)!;

        Assert.True(allocation.UnassignedGpus == unassigned, name);
    }

    [Fact]
    public void Read_MalformedAnnotation_IgnoredAndLogged()
    {
        var kit = new SourceKit();

        Assert.Null(kit.PodReader.Read(KubeObjects.Pod("ml", "p", "gpu-1", "0,,1")));
        var entry = Assert.Single(kit.PodLog.Entries);
        Assert.Equal(2010, entry.Id.Id);
        Assert.Contains("ml/p", entry.Message, StringComparison.Ordinal);
        Assert.Contains("'0,,1'", entry.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("being deleted, container still running", false, 0b11UL)]
    [InlineData("being deleted, every container terminated", true, null)]
    public void Read_BeingDeleted_HoldsGpusUntilContainersTerminate(string name, bool terminated, ulong? expected)
    {
        Assert.NotNull(name);
        var pod = KubeObjects.Pod("ml", "p", "gpu-1", "0,1");
        pod.Metadata.DeletionTimestamp = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var state = terminated
            ? new V1ContainerState { Terminated = new V1ContainerStateTerminated { ExitCode = 0 } }
            : new V1ContainerState { Running = new V1ContainerStateRunning() };
        pod.Status.ContainerStatuses = [new V1ContainerStatus { Name = "main", Image = "busybox", ImageID = "x", Ready = !terminated, RestartCount = 0, State = state }];

        Assert.Equal(expected, new SourceKit().PodReader.Read(pod)?.Gpus);
    }

    [Fact]
    public void Read_BeingDeletedWithoutContainerStatuses_StillHoldsGpus()
    {
        var pod = KubeObjects.Pod("ml", "p", "gpu-1", "0");
        pod.Metadata.DeletionTimestamp = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

        Assert.NotNull(new SourceKit().PodReader.Read(pod));
    }

    [Fact]
    public void Read_PlacementGroup_Kept()
    {
        Assert.Equal("llm-1", new SourceKit().PodReader.Read(KubeObjects.Pod("ml", "p", "gpu-1", "0", placementGroup: "llm-1"))?.PlacementGroup);
        Assert.Null(new SourceKit().PodReader.Read(KubeObjects.Pod("ml", "p", "gpu-1", "0", placementGroup: ""))?.PlacementGroup);
    }
}
