using k8s.Models;
using SchedExt.Topology.Model;
using SchedExt.Topology.Requests;
using SchedExt.Topology.Shapes;

namespace SchedExt.E2E;

/// <summary>Real placements by schedext-scheduler and the extender on fake GPU nodes of real hardware shapes.</summary>
[Collection(ClusterFixtureDefinition.Name)]
public sealed class PlacementTests(E2ECluster cluster)
{
    private static readonly TimeSpan BindTimeout = TimeSpan.FromSeconds(90);

    // The extender's FailedNodes reasons (SchedExt.Topology NodeVerdict), which kube-scheduler copies into FailedScheduling events.
    private const string NvLinkReason = "needs 4 NVLink-connected free GPUs";
    private const string BareMetalReason = "bare metal required; node is a VM";

    [SkippableFact]
    public async Task NvLinkQuad_FourGpuPod_LandsOnNodeWithFreeQuadAndGetsAllPairsNvLink()
    {
        await using var scope = await TestScope.BeginAsync(cluster, "nvlink");
        // V100 pairs: NVLink inside each pair only, so no four GPUs are all NVLink-joined. DGX-1: two fully joined quads.
        await scope.AddNodeAsync("pairs", ReferenceTopologies.V100Pairs4, MachineKind.BareMetal);
        var dgx = await scope.AddNodeAsync("dgx1", ReferenceTopologies.Dgx1V100, MachineKind.BareMetal);

        await scope.CreatePodAsync("quad", 4, new Dictionary<string, string> { [SchedExtKeys.Interconnect] = "nvlink" });
        var pod = await scope.WaitForBindingAsync("quad", BindTimeout);

        Assert.Equal(dgx, pod.Spec.NodeName);
        var gpus = FakeGpuNodes.AssignedGpus(pod);
        Assert.Equal(4, gpus.Distinct().Count());
        Assert.Equal(4, gpus.Length);
        AssertAllPairs(ReferenceTopologies.Dgx1V100, gpus, link => link.IsNvLink, "NVLink");
    }

    [SkippableFact]
    public async Task BareMetalOnly_PodWithOnlyVmNodes_StaysPendingThenLandsOnBareMetal()
    {
        await using var scope = await TestScope.BeginAsync(cluster, "metal");
        var vm = await scope.AddNodeAsync("vm", ReferenceTopologies.HgxH200, MachineKind.Vm);
        await scope.CreatePodAsync("metal", 1, new Dictionary<string, string> { [SchedExtKeys.Machine] = "bare-metal" });

        // Long enough for several scheduling attempts against the free VM node.
        var boundToVm = await TestScope.EventuallyAsync(async () => !string.IsNullOrEmpty((await scope.ReadPodAsync("metal")).Spec.NodeName), TimeSpan.FromSeconds(15));
        Assert.False(boundToVm, $"a bare-metal-only pod was bound while only the VM node {vm} existed");
        var events = await scope.SchedulingEventsAsync("metal");
        Assert.True(events.Any(m => m.Contains(BareMetalReason, StringComparison.Ordinal)), $"no FailedScheduling event says \"{BareMetalReason}\"; events: " + string.Join(" | ", events));

        var metal = await scope.AddNodeAsync("metal", ReferenceTopologies.Pcie8TwoSocket, MachineKind.BareMetal);
        var pod = await scope.WaitForBindingAsync("metal", BindTimeout);
        Assert.Equal(metal, pod.Spec.NodeName);
    }

    [SkippableFact]
    public async Task RdmaRequired_TwoGpuPod_GetsGpusWithNearNics()
    {
        await using var scope = await TestScope.BeginAsync(cluster, "rdma");
        // The workstation has free GPUs but no NIC at all; every DGX-1 GPU shares a PCIe switch with an mlx5 HCA.
        await scope.AddNodeAsync("ws", ReferenceTopologies.Rtx5090Workstation, MachineKind.BareMetal);
        var dgx = await scope.AddNodeAsync("dgx1", ReferenceTopologies.Dgx1V100, MachineKind.BareMetal);

        await scope.CreatePodAsync("rdma", 2, new Dictionary<string, string> { [SchedExtKeys.Rdma] = "required" });
        var pod = await scope.WaitForBindingAsync("rdma", BindTimeout);

        Assert.Equal(dgx, pod.Spec.NodeName);
        var gpus = FakeGpuNodes.AssignedGpus(pod);
        Assert.Equal(2, gpus.Distinct().Count());
        // The bind must name the NICs it chose, and only NICs near the assigned GPUs.
        var nearNics = gpus.SelectMany(g => ReferenceTopologies.Dgx1V100.NearNics(g)).ToHashSet(StringComparer.Ordinal);
        Assert.True(pod.Metadata.Annotations.TryGetValue(SchedExtKeys.AssignedNics, out var nics), $"{SchedExtKeys.AssignedNics} was not written");
        var named = nics.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.NotEmpty(named);
        Assert.All(named, nic => Assert.Contains(nic, nearNics));
    }

    [SkippableFact]
    public async Task Burst_FiftySingleGpuPodsOnThirtyTwoGpus_NoGpuIsShared()
    {
        await using var scope = await TestScope.BeginAsync(cluster, "burst");
        const int Nodes = 4;
        const int Pods = 50;
        var capacity = Nodes * ReferenceTopologies.HgxH200.GpuCount;
        for (var i = 0; i < Nodes; i++)
        {
            await scope.AddNodeAsync("n" + i, ReferenceTopologies.HgxH200, MachineKind.BareMetal);
        }

        await Task.WhenAll(Enumerable.Range(0, Pods).Select(i => scope.CreatePodAsync(TestScope.PodName("burst", i), 1)));

        IList<V1Pod> pods = [];
        var full = await TestScope.EventuallyAsync(
            async () =>
            {
                pods = await scope.ListPodsAsync();
                return pods.Count(p => !string.IsNullOrEmpty(p.Spec.NodeName)) >= capacity;
            },
            TimeSpan.FromSeconds(180));
        Assert.True(full, $"only {pods.Count(p => !string.IsNullOrEmpty(p.Spec.NodeName))} of {capacity} GPUs were handed out");

        // Over-binding shows once the scheduler has tried every pod left over: wait until each has a FailedScheduling
        // event (a pod it wrongly binds leaves the pending set), then check every claim.
        List<string> untried = [];
        var allTried = await TestScope.EventuallyAsync(
            async () =>
            {
                pods = await scope.ListPodsAsync();
                var failed = await scope.PodsFailedSchedulingAsync();
                untried = [.. pods.Where(p => string.IsNullOrEmpty(p.Spec.NodeName) && !failed.Contains(p.Metadata.Name)).Select(p => p.Metadata.Name)];
                return untried.Count == 0;
            },
            TimeSpan.FromSeconds(60));
        var bound = pods.Where(p => !string.IsNullOrEmpty(p.Spec.NodeName)).ToList();
        Assert.Equal(capacity, bound.Count);
        var claims = bound.SelectMany(p => FakeGpuNodes.AssignedGpus(p).Select(g => (p.Spec.NodeName, Gpu: g, Pod: p.Metadata.Name))).ToList();
        Assert.All(bound, p => Assert.Single(FakeGpuNodes.AssignedGpus(p)));
        Assert.All(claims, c => Assert.InRange(c.Gpu, 0, ReferenceTopologies.HgxH200.GpuCount - 1));
        var shared = claims.GroupBy(c => (c.NodeName, c.Gpu)).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key.NodeName}/GPU{g.Key.Gpu}: {string.Join(", ", g.Select(c => c.Pod))}").ToList();
        Assert.True(shared.Count == 0, "GPUs given to more than one pod: " + string.Join("; ", shared));
        Assert.True(allTried, "pending pods without a FailedScheduling event after 60 s (not yet tried, so over-binding was not ruled out): " + string.Join(", ", untried));
    }

    [SkippableFact]
    public async Task Impossible_NvLinkQuadOnPcieNode_StaysPendingWithExtenderReason()
    {
        await using var scope = await TestScope.BeginAsync(cluster, "nofit");
        await scope.AddNodeAsync("pcie", ReferenceTopologies.Pcie8TwoSocket, MachineKind.BareMetal);
        await scope.CreatePodAsync("quad", 4, new Dictionary<string, string> { [SchedExtKeys.Interconnect] = "nvlink" });

        IReadOnlyList<string> events = [];
        var reasoned = await TestScope.EventuallyAsync(
            async () =>
            {
                events = await scope.SchedulingEventsAsync("quad");
                return events.Any(m => m.Contains(NvLinkReason, StringComparison.Ordinal));
            },
            TimeSpan.FromSeconds(60));

        Assert.True(reasoned, $"no FailedScheduling event carries the extender's reason \"{NvLinkReason}…\"; events: " + string.Join(" | ", events));
        var pod = await scope.ReadPodAsync("quad");
        Assert.True(string.IsNullOrEmpty(pod.Spec.NodeName), $"an impossible pod was bound to {pod.Spec.NodeName}");
        Assert.Equal("Pending", pod.Status.Phase);
    }

    private static void AssertAllPairs(NodeTopology topology, int[] gpus, Func<Link, bool> ok, string what)
    {
        for (var i = 0; i < gpus.Length; i++)
        {
            for (var j = i + 1; j < gpus.Length; j++)
            {
                var link = topology.GpuLink(gpus[i], gpus[j]);
                Assert.True(ok(link), $"GPU{gpus[i]}–GPU{gpus[j]} is {link}, not {what} (assigned {string.Join(",", gpus)})");
            }
        }
    }
}
