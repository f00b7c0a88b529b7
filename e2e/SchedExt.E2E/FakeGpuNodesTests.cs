using System.Text.RegularExpressions;
using SchedExt.Topology.Annotation;
using SchedExt.Topology.Requests;
using SchedExt.Topology.Shapes;

namespace SchedExt.E2E;

/// <summary>Cluster-free checks of the fake nodes and pods the e2e tests create (a malformed one would fail only on a cluster).</summary>
public sealed partial class FakeGpuNodesTests
{
    public static TheoryData<string> Shapes() => [.. ReferenceTopologies.Names];

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Node_ReferenceShape_CarriesItsTopologyGpusAndValidLabels(string shape)
    {
        var topology = ReferenceTopologies.Find(shape)!;

        var node = FakeGpuNodes.Node("e2e-run-n0", "run", topology, MachineKind.Vm);

        Assert.True(TopologyAnnotation.Parse(node.Metadata.Annotations[SchedExtKeys.Topology]).StructurallyEquals(topology));
        Assert.Equal(topology.GpuCount.ToString(System.Globalization.CultureInfo.InvariantCulture), node.Status.Allocatable[SchedExtKeys.GpuResource].ToString());
        Assert.All(node.Metadata.Labels.Values, v => Assert.Matches(LabelValue(), v));
        Assert.Equal("vm", node.Metadata.Labels[SchedExtKeys.Machine]);
        var taint = Assert.Single(node.Spec.Taints);
        Assert.Equal((FakeGpuNodes.RunKey, "run", "NoSchedule"), (taint.Key, taint.Value, taint.Effect));
    }

    [Fact]
    public void Pod_ToleratesRunTaintAndNodeLossForever_AndSelectsOnlyRunNodes()
    {
        var pod = FakeGpuNodes.Pod("p", "run", 4);

        Assert.Equal(FakeGpuNodes.SchedulerName, pod.Spec.SchedulerName);
        Assert.Equal("run", pod.Spec.NodeSelector[FakeGpuNodes.RunKey]);
        Assert.Equal("4", pod.Spec.Containers[0].Resources.Limits[SchedExtKeys.GpuResource].ToString());
        foreach (var key in new[] { "node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable" })
        {
            foreach (var effect in new[] { "NoSchedule", "NoExecute" })
            {
                var toleration = Assert.Single(pod.Spec.Tolerations, t => t.Key == key && t.Effect == effect);
                Assert.Null(toleration.TolerationSeconds);
            }
        }

        Assert.Contains(pod.Spec.Tolerations, t => t.Key == FakeGpuNodes.RunKey && t.Value == "run" && t.Effect == "NoSchedule");
    }

    [GeneratedRegex("^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$")]
    private static partial Regex LabelValue();
}
