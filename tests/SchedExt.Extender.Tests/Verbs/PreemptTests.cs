using SchedExt.Topology.Requests;
using SchedExt.Topology.Shapes;

namespace SchedExt.Extender.Tests.Verbs;

/// <summary>Preempt keeps a node only when evicting its victims really leaves a valid GPU set for the pod.</summary>
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
}
