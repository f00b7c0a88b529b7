using SchedExt.Extender.Sources;
using SchedExt.Simulator.Inputs;
using SchedExt.Simulator.Policies;
using SchedExt.Testing;

namespace SchedExt.Simulator.Tests;

public class SnapshotInputTests
{
    /// <summary>extender/SchedExt.Simulator/examples, found from tests/testdata.</summary>
    internal static string Example(string file) => Path.GetFullPath(Path.Combine(TestData.Directory, "..", "..", "extender", "SchedExt.Simulator", "examples", file));

    [Fact]
    public void FromSnapshotFile_Example_KeepsThePodsGpusHeldThroughout()
    {
        // snapshot.yaml: hgx-01, hgx-02 (H200) and dgx1-01, dgx1-02 (DGX-1V); a running pod holds dgx1-01 GPUs 0-3.
        var cluster = ClusterInput.FromSnapshotFile(Example("snapshot.yaml"));
        Assert.Equal(["dgx1-01", "dgx1-02", "hgx-01", "hgx-02"], cluster.Nodes.Select(n => n.Name));
        Assert.Equal(32, cluster.TotalGpus);

        // An 8-GPU job cannot go to dgx1-01 (4 held); nothing ever releases those 4 GPUs.
        var jobs = TraceReader.Load(Example("trace.yaml"));
        foreach (var policy in SimulationSettings.AllPolicies)
        {
            var r = Scenario.Run(SimulationRunner.CreatePolicy(policy, 1), cluster, jobs);
            Assert.All(r.Timeline.Points, p => Assert.True(p.UsedGpus >= 4));
            Assert.Equal(4, r.Timeline.Points[^1].UsedGpus);
            Assert.Equal(jobs.Count, r.Placed);
            Assert.All(Enumerable.Range(0, jobs.Count), j => Assert.False(r.NodeNames[r.NodeOf[j]] == "dgx1-01" && (r.GpusOf[j] & 0xF) != 0));
        }
    }

    [Fact]
    public void FromObjects_DemoCluster_ReadsEveryGpuNodeAndRunningPod()
    {
        var objects = DemoCluster.Build();
        var cluster = ClusterInput.FromObjects(objects, "demo");

        Assert.Equal(64, cluster.Nodes.Count);
        Assert.NotEmpty(cluster.Pods);
        var jobs = SyntheticTrace.Generate(400, seed: 5, totalGpus: cluster.TotalGpus);
        var r = Scenario.Run(SimulationRunner.CreatePolicy(SchedExtPolicy.PolicyName, 1), cluster, jobs);
        Assert.Equal(cluster.Pods.Sum(p => System.Numerics.BitOperations.PopCount(p.Gpus)), r.Timeline.Points[^1].UsedGpus);
        Assert.Equal(jobs.Count, r.Placed + r.NeverPlaced);
    }

    [Fact]
    public void TraceCsvAndYamlExamples_DescribeTheSameJobs()
    {
        var csv = TraceReader.Load(Example("trace.csv"));
        var yaml = TraceReader.Load(Example("trace.yaml"));
        Assert.Equal(12, csv.Count);
        Assert.Equal(new[] { 0, 1, 2, 4 }.Select(i => csv[i].Request), yaml.Select(j => j.Request));
    }
}
