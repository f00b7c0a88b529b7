using Microsoft.Extensions.DependencyInjection;
using SchedExt.Extender.Scheduling;
using SchedExt.Topology.Requests;
using SchedExt.Topology.Shapes;

namespace SchedExt.Extender.Tests.Verbs;

/// <summary>
/// Preempt keeps a node only when evicting its victims really leaves a valid GPU set for the pod, adding the fewest
/// lower-priority GPU holders when the scheduler's victims free the wrong GPUs.
/// </summary>
public sealed class PreemptTests
{
    private const string FourGpuPod = """{"metadata":{"name":"big","namespace":"ml","uid":"uid-big"},"spec":{"containers":[{"name":"c","resources":{"limits":{"nvidia.com/gpu":"4"}}}]}}""";

    private static IEnumerable<object> Cluster(bool unrecordedHolder)
    {
        yield return GoldenCluster.Node("n", ReferenceTopologies.Dgx1V100, "bare-metal", "r1", "b1");
        yield return GoldenCluster.Pod("ml", "victim", "uid-victim", "n", "0,1,2,3,4,5");
        if (unrecordedHolder)
        {
            // Holds 2 GPUs that nothing recorded (placed by another scheduler): it could hold any of them.
            var pod = GoldenCluster.Pod("ml", "other", "uid-other", "n", "6,7");
            pod.Metadata.Annotations.Remove(SchedExtKeys.AssignedGpus);
            yield return pod;
        }
    }

    [Theory]
    [InlineData(false, """{"NodeNameToMetaVictims":{"n":{"Pods":[{"UID":"uid-victim"}],"NumPDBViolations":0}}}""")]
    [InlineData(true, """{"NodeNameToMetaVictims":{}}""")]
    public async Task Preempt_VictimFreesSixGpus_NodeKeptUnlessAnotherPodMayHoldThemAll(bool unrecordedHolder, string expected)
    {
        using var factory = new ExtenderFactory(Cluster(unrecordedHolder));

        var (status, body) = await factory.PostAsync("preempt", "{\"Pod\":" + FourGpuPod + ""","NodeNameToMetaVictims":{"n":{"Pods":[{"UID":"uid-victim"}],"NumPDBViolations":0}}}""");

        Assert.Equal(200, status);
        Assert.Equal(expected, body);
    }

    [Fact]
    public async Task Preempt_FullVictimWithoutUid_NodeDroppedNotAnsweredWithAnEmptyUid()
    {
        using var factory = new ExtenderFactory(Cluster(unrecordedHolder: false));
        var victim = """{"metadata":{"name":"victim","namespace":"ml","annotations":{"schedext.io/assigned-gpus":"0,1,2,3,4,5"}}}""";

        var (status, body) = await factory.PostAsync("preempt", "{\"Pod\":" + FourGpuPod + ",\"NodeNameToVictims\":{\"n\":{\"Pods\":[" + victim + "],\"NumPDBViolations\":0}}}");

        Assert.Equal(200, status);
        Assert.Equal("""{"NodeNameToMetaVictims":{}}""", body);
    }

    /// <summary>A 4-GPU pod of priority 1000 that needs an NVLink quad (on a DGX-1V: 0-3 or 4-7).</summary>
    private const string QuadPod = """{"metadata":{"name":"quad","namespace":"ml","uid":"uid-quad","annotations":{"schedext.io/interconnect":"nvlink"}},"spec":{"priority":1000,"containers":[{"name":"c","resources":{"limits":{"nvidia.com/gpu":"4"}}}]}}""";

    private static IEnumerable<object> Dgx(params (string Name, string Gpus, int Priority)[] pods)
    {
        yield return GoldenCluster.Node("n", ReferenceTopologies.Dgx1V100, "bare-metal", "r1", "b1");
        foreach (var (name, gpus, priority) in pods)
        {
            yield return GoldenCluster.Pod("ml", name, "uid-" + name, "n", gpus, priority: priority);
        }
    }

    private static Task<(int Status, string Body)> PreemptAsync(ExtenderFactory factory, string victims) =>
        factory.PostAsync("preempt", "{\"Pod\":" + QuadPod + ",\"NodeNameToMetaVictims\":{\"n\":{\"Pods\":[" + victims + "],\"NumPDBViolations\":1}}}");

    [Fact]
    public async Task Preempt_SchedulersVictimFreesTheWrongGpus_AddsTheLowerPriorityPodThatFreesAQuad()
    {
        // a (0,1) and b (4,5) are priority 0, keep (2) is 2000; free 3,6,7. The scheduler, counting GPUs, evicts a: that
        // frees 0 and 1, but 2 stays held, so no quad. Evicting b as well frees 4-7. Before: the node was dropped.
        using var factory = new ExtenderFactory(Dgx(("a", "0,1", 0), ("b", "4,5", 0), ("keep", "2", 2000)));

        var (status, body) = await PreemptAsync(factory, """{"UID":"uid-a"}""");

        Assert.Equal(200, status);
        Assert.Equal("""{"NodeNameToMetaVictims":{"n":{"Pods":[{"UID":"uid-a"},{"UID":"uid-b"}],"NumPDBViolations":1}}}""", body);
    }

    [Theory]
    [InlineData(0, """{"NodeNameToMetaVictims":{"n":{"Pods":[{"UID":"uid-low"}],"NumPDBViolations":1}}}""")]
    [InlineData(999, """{"NodeNameToMetaVictims":{"n":{"Pods":[{"UID":"uid-low"}],"NumPDBViolations":1}}}""")]
    [InlineData(1000, """{"NodeNameToMetaVictims":{}}""")]
    [InlineData(2000, """{"NodeNameToMetaVictims":{}}""")]
    public async Task Preempt_NodeSentWithoutVictims_AddsAHolderOnlyOfLowerPriority(int holderPriority, string expected)
    {
        // low holds 0 and 4: six GPUs free but no quad. kube-scheduler (with kubernetes#135486) sends such a node, which
        // only the extender rejected, with an empty victim list. Before: always dropped.
        using var factory = new ExtenderFactory(Dgx(("low", "0,4", holderPriority)));

        var (_, body) = await PreemptAsync(factory, string.Empty);

        Assert.Equal(expected, body);
    }

    [Fact]
    public async Task Preempt_FewestVictimsFirstThenLowestPriorities()
    {
        // Evicting c (0,1,2,3; priority 500) alone frees a quad; so would a (0,1) and b (2,3) of priority 0 together.
        // One victim is fewer than two: c is the one added.
        using var factory = new ExtenderFactory(Dgx(("a", "0,1", 0), ("b", "2,3", 0), ("c", "4,5,6,7", 500)));

        var (_, body) = await PreemptAsync(factory, string.Empty);

        Assert.Equal("""{"NodeNameToMetaVictims":{"n":{"Pods":[{"UID":"uid-c"}],"NumPDBViolations":1}}}""", body);
    }

    [Fact]
    public async Task Preempt_TwoSetsOfTheSameSize_TheOneOfLowerPrioritiesIsAdded()
    {
        // Evicting x (0; priority 1) and y (1; 900) frees the quad 0-3; so does evicting z (4; 2) and w (5; 3) for 4-7.
        // Before: the first pair in the list order was taken, a priority-900 pod evicted where pods of 2 and 3 would do.
        using var factory = new ExtenderFactory(Dgx(("x", "0", 1), ("y", "1", 900), ("z", "4", 2), ("w", "5", 3)));

        var (_, body) = await PreemptAsync(factory, string.Empty);

        Assert.Equal("""{"NodeNameToMetaVictims":{"n":{"Pods":[{"UID":"uid-z"},{"UID":"uid-w"}],"NumPDBViolations":1}}}""", body);
    }

    [Fact]
    public async Task Preempt_PodBoundInSnapshotMode_KeepsItsPriority()
    {
        // Snapshot and demo modes bind in memory: the pod bound there (priority 5000, all 8 GPUs) was recorded with
        // priority 0, and a preemptor of 1000 could take it as a victim.
        using var factory = new ExtenderFactory(Dgx());
        var high = """{"metadata":{"name":"hi","namespace":"ml","uid":"uid-hi"},"spec":{"priority":5000,"containers":[{"name":"c","resources":{"limits":{"nvidia.com/gpu":"8"}}}]}}""";
        await factory.PostAsync("filter", "{\"Pod\":" + high + ",\"NodeNames\":[\"n\"]}");
        var (_, bound) = await factory.PostAsync("bind", """{"PodName":"hi","PodNamespace":"ml","PodUID":"uid-hi","Node":"n"}""");
        Assert.Equal("""{"Error":""}""", bound);

        var (_, body) = await PreemptAsync(factory, string.Empty);

        Assert.Equal("""{"NodeNameToMetaVictims":{}}""", body);
    }

    [Fact]
    public async Task Preempt_NodeFitsWithoutAnyEviction_Dropped()
    {
        // An empty victim list answered as it came would fail the whole preemption in kube-scheduler before #135486.
        using var factory = new ExtenderFactory(Dgx());

        var (_, body) = await PreemptAsync(factory, string.Empty);

        Assert.Equal("""{"NodeNameToMetaVictims":{}}""", body);
    }

    [Fact]
    public async Task Preempt_VictimWhoseBindIsInFlight_ItsReservedGpusCountAsFreed()
    {
        // inflight's bind has reserved 0-5 and the watch does not show it yet; the scheduler names it as the victim.
        // Before: its reservation still counted as taken, and the node was dropped.
        using var factory = new ExtenderFactory(Dgx());
        _ = factory.CreateClient();
        var state = factory.Services.GetRequiredService<SchedExt.Extender.State.ClusterState>();
        var reservations = factory.Services.GetRequiredService<Reservations>();
        var snapshot = state.Current;
        reservations.ChooseAndReserve(snapshot.FindNode("n")!, snapshot, "uid-inflight", 0, _ => 0b0011_1111UL);

        var (_, body) = await PreemptAsync(factory, """{"UID":"uid-inflight"}""");

        Assert.Equal("""{"NodeNameToMetaVictims":{"n":{"Pods":[{"UID":"uid-inflight"}],"NumPDBViolations":1}}}""", body);
    }

    [Fact]
    public async Task Preempt_PriorityNotAnInteger_400()
    {
        using var factory = new ExtenderFactory(Dgx());
        var pod = QuadPod.Replace("\"priority\":1000", "\"priority\":\"high\"", StringComparison.Ordinal);

        var (status, body) = await factory.PostAsync("preempt", "{\"Pod\":" + pod + ",\"NodeNameToMetaVictims\":null}");

        Assert.Equal(400, status);
        Assert.Contains("Pod.spec.priority must be a 32-bit integer", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(4, 1)]
    [InlineData(4, 2)]
    [InlineData(6, 3)]
    [InlineData(5, 5)]
    [InlineData(3, 4)]
    public void Combinations_EveryChoiceOnceInLexicographicOrder(int count, int size)
    {
        var all = VictimSelection.Combinations(count, size).Select(c => string.Join(',', c)).ToList();

        var expected = Enumerable.Range(0, 1 << count)
            .Where(m => System.Numerics.BitOperations.PopCount((uint)m) == size)
            .Select(m => string.Join(',', Enumerable.Range(0, count).Where(i => (m & (1 << i)) != 0)))
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.Equal(expected, all);
    }
}
