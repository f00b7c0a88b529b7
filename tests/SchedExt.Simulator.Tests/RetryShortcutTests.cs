using SchedExt.Extender.Scheduling;
using SchedExt.Simulator.Engine;
using SchedExt.Simulator.Inputs;
using SchedExt.Simulator.Policies;

namespace SchedExt.Simulator.Tests;

/// <summary>
/// The simulation retries a waiting job only on nodes released since it last failed, and skips a job whose class
/// already failed. Both rest on monotonicity; this checks them against the naive way: every job its own class, every
/// attempt over every node.
/// </summary>
public class RetryShortcutTests
{
    [Theory]
    [InlineData("schedext", SchedExtPolicy.PolicyName)]
    [InlineData("first-fit", FirstFitPolicy.PolicyName)]
    public void Run_WithShortcuts_PlacesExactlyAsAFullScan(string name, string policy)
    {
        _ = name;
        var cluster = ClusterInput.FromSpec("3x hgx-h200,3x dgx1-v100,2x pcie8-two-socket,1x dgx2-v100");
        var jobs = SyntheticTrace.Generate(1500, seed: 11, totalGpus: cluster.TotalGpus, load: 1.3);

        var fast = Scenario.Run(SimulationRunner.CreatePolicy(policy, 1), cluster, jobs);
        var naive = Scenario.Run(new FullScan(SimulationRunner.CreatePolicy(policy, 1), cluster.Nodes.Count), cluster, jobs);

        Assert.True(fast.Timeline.Points.Max(p => p.Pending) > 10, "the trace must make jobs wait for the shortcut to matter");
        Assert.Equal(naive.NodeOf, fast.NodeOf);
        Assert.Equal(naive.GpusOf, fast.GpusOf);
        Assert.Equal(naive.DelayOf, fast.DelayOf);
    }

    /// <summary>Every job its own class, every attempt over all nodes.</summary>
    private sealed class FullScan(IPlacementPolicy inner, int nodes) : IPlacementPolicy
    {
        private readonly int[] _all = Enumerable.Range(0, nodes).ToArray();

        public string Name => inner.Name;

        public int ClassOf(SimJob job) => job.Id;

        public PlaceOutcome TryPlace(SimJob job, SimulatedCluster cluster, ReadOnlySpan<int> candidates, bool allNodes, out int node, out ulong gpus) =>
            inner.TryPlace(job, cluster, _all, allNodes, out node, out gpus);
    }

    [Fact]
    public void SchedExtPolicy_UsesTheExtendersPlanner()
    {
        // Guard against a re-implementation creeping in: the policy's only constructor takes the extender's planner.
        var constructor = Assert.Single(typeof(SchedExtPolicy).GetConstructors());
        Assert.Contains(constructor.GetParameters(), p => p.ParameterType == typeof(PlacementPlanner));
    }
}
