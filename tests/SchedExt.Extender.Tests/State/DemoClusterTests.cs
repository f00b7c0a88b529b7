using SchedExt.Extender.Sources;
using SchedExt.Extender.State;
using SchedExt.Testing;
using SchedExt.Topology.Requests;

namespace SchedExt.Extender.Tests.State;

public class DemoClusterTests
{
    /// <summary>Set to 1 to rewrite the repository copy of the demo cluster from the generator (the test then fails if it changed).</summary>
    private const string UpdateVariable = "SCHEDEXT_UPDATE_DEMO";

    [Fact]
    public void Build_ReadThroughReaders_SixtyPlusNodesOfFourPlusShapesMixedAndLocated()
    {
        var kit = new SourceKit();

        var (nodes, pods) = DemoCluster.Build().ReplaceInto(kit.State, kit.NodeReader, kit.PodReader);

        var snapshot = kit.State.Current;
        Assert.True(snapshot.Synced);
        Assert.True(nodes >= 60, $"{nodes} nodes");
        Assert.InRange(pods, 24, 60);
        Assert.Equal(pods, snapshot.Allocations.Count);
        Assert.All(snapshot.Nodes.Values, n =>
        {
            Assert.Null(n.Info.TopologyProblem);
            Assert.True(n.Info.Topology.IsKnown);
            Assert.NotNull(n.Info.Rack);
            Assert.NotNull(n.Info.Block);
            Assert.NotEqual(MachineKind.Unknown, n.Info.Machine);
        });
        Assert.True(snapshot.Nodes.Values.Select(n => n.Shape).Distinct().Count() >= 4);
        Assert.Contains(snapshot.Nodes.Values, n => n.Info.Machine == MachineKind.BareMetal);
        Assert.Contains(snapshot.Nodes.Values, n => n.Info.Machine == MachineKind.Vm);
        Assert.True(snapshot.Nodes.Values.Select(n => n.Info.Block).Distinct().Count() >= 4);
        Assert.Contains(snapshot.Nodes.Values, n => n.UsedGpus != 0 && n.FreeGpus != 0);
    }

    [Fact]
    public void Build_Pods_NeverShareAGpuAndStayOnTheirNode()
    {
        var kit = new SourceKit();
        DemoCluster.Build().ReplaceInto(kit.State, kit.NodeReader, kit.PodReader);
        var snapshot = kit.State.Current;

        foreach (var byNode in snapshot.Allocations.Values.GroupBy(a => a.Node))
        {
            var node = snapshot.FindNode(byNode.Key);
            Assert.NotNull(node);
            ulong seen = 0;
            foreach (var pod in byNode)
            {
                Assert.Equal(0UL, seen & pod.Gpus);
                Assert.Equal(pod.Gpus, pod.Gpus & node.Shape.AllGpus);
                seen |= pod.Gpus;
            }

            Assert.Equal(seen, node.UsedGpus);
        }
    }

    [Fact]
    public void ToYaml_TwoRuns_Identical() => Assert.Equal(DemoCluster.ToYaml(), DemoCluster.ToYaml());

    [Fact]
    public void ToYaml_ReadBackAsSnapshotFile_SameStateAsBuild()
    {
        var built = new SourceKit();
        DemoCluster.Build().ReplaceInto(built.State, built.NodeReader, built.PodReader);
        var read = new SourceKit();

        SnapshotFile.Parse(DemoCluster.ToYaml(), "demo", out var skipped).ReplaceInto(read.State, read.NodeReader, read.PodReader);

        Assert.Equal(0, skipped);
        Assert.Equal(Describe(built.State.Current), Describe(read.State.Current));
    }

    [Fact]
    public void RepositoryCopy_EqualsGenerator()
    {
        var path = Path.GetFullPath(Path.Combine(TestData.Directory, "..", "..", DemoCluster.RepositoryPath));
        var expected = DemoCluster.ToYaml();
        if (GoldenFiles.Update(path, expected, UpdateVariable))
        {
            Assert.Fail(GoldenFiles.Rewritten([DemoCluster.RepositoryPath], UpdateVariable));
        }

        Assert.True(File.Exists(path), $"{path} is missing; run the tests with {UpdateVariable}=1 to write it");
        Assert.True(expected == File.ReadAllText(path), $"{DemoCluster.RepositoryPath} differs from DemoCluster.ToYaml(); run the tests with {UpdateVariable}=1 to regenerate it");
    }

    private static List<string> Describe(ClusterSnapshot snapshot) =>
    [
        .. snapshot.Nodes.Values.OrderBy(n => n.Name, StringComparer.Ordinal)
            .Select(n => $"{n.Name} {n.Shape.Id} {n.Info.Machine} {n.Info.Rack} {n.Info.Block} {n.UsedGpus:X} {string.Join(',', n.Info.Topology.Gpus.Select(g => g.Uuid))}"),
        .. snapshot.Allocations.Values.OrderBy(a => a.Uid, StringComparer.Ordinal).Select(a => a.ToString()),
    ];
}
