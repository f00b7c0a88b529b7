using SchedExt.Simulator.Policies;

namespace SchedExt.Simulator.Tests;

/// <summary>Small scenarios whose outcome is worked out by hand in the comments.</summary>
public class HandCheckedScenarioTests
{
    // DGX-1V (ReferenceTopologies.Dgx1V100): two fully NVLinked quads {0,1,2,3} and {4,5,6,7} (NUMA 0 and 1), joined
    // only by the cross links 0-4, 1-5, 2-6, 3-7; every other cross pair is SYS. So the only all-NVLink sets of 4 GPUs
    // are the two quads.
    //
    // Trace (two DGX-1V nodes, 16 GPUs):
    //   job 0  t=0    2 GPUs any     runs 50 s
    //   job 1  t=0    4 GPUs nvlink  runs 1000 s
    //   job 2  t=0    4 GPUs nvlink  runs 1000 s
    //   job 3  t=100  4 GPUs nvlink  runs 1000 s
    //   job 4  t=100  4 GPUs nvlink  runs 1000 s
    private const string TwoDgx1 = "2x dgx1-v100";
    private const string QuadJobs = """
        arrival,duration,gpus,interconnect
        0,50,2,any
        0,1000,4,nvlink
        0,1000,4,nvlink
        100,1000,4,nvlink
        100,1000,4,nvlink
        """;

    [Fact]
    public void FirstFit_QuadJobsOnTwoDgx1_SplitsQuadsAndStrandsFourGpus()
    {
        // Lowest free indices, first node with room:
        //   job 0 -> node 1 {0,1}
        //   job 1 -> node 1 {2,3,4,5}: 2-4 is SYS, so not all-NVLink, and it spans both NUMA nodes
        //   job 2 -> node 1 has only {6,7} left -> node 2 {0,1,2,3}
        //   t=50 job 0 ends: node 1 has {0,1,6,7} free: 4 GPUs but no quad -> 4 GPUs stranded for a 4-GPU NVLink job
        //   job 3 -> node 1 {0,1,6,7}: not all-NVLink, spans NUMA nodes
        //   job 4 -> node 2 {4,5,6,7}
        var r = Scenario.Run(FirstFitPolicy.PolicyName, TwoDgx1, QuadJobs);

        Assert.Equal(["dgx1-v100-0001:0,1", "dgx1-v100-0001:2,3,4,5", "dgx1-v100-0002:0,1,2,3", "dgx1-v100-0001:0,1,6,7", "dgx1-v100-0002:4,5,6,7"], Enumerable.Range(0, 5).Select(r.Where));
        Assert.Equal((5, 3), (r.MultiGpuPlaced, r.AllNvLink));
        Assert.Equal(2, r.NumaSplit);
        Assert.Equal(4, r.Timeline.At(50).StrandedNvLink4);
    }

    [Fact]
    public void SchedExt_QuadJobsOnTwoDgx1_KeepsQuadsWholeAndStrandsNothing()
    {
        // Through PlacementPlanner (score = 4 link + 2 NUMA + 2 NIC + 3 leftover + …):
        //   job 0 (2 GPUs): an NV2 pair inside a quad, e.g. {0,3}; the other quad stays whole. Nodes tie -> node 1.
        //   job 1: node 1 offers only quad {4..7}, leaving 2 GPUs: leftover = (packing 750 + connectivity 1000)/2 = 875;
        //          empty node 2 leaves a quad: (500 + 1000)/2 = 750. Link, NUMA and NIC parts are equal -> node 1 {4,5,6,7}.
        //   job 2: node 1 has 2 free -> node 2, one quad.
        //   t=50 job 0 ends: node 1 has quad {0..3} free, node 2 the other quad: nothing stranded.
        //   job 3: both nodes offer a quad that fills them (leftover 1000); tie -> node 1 {0,1,2,3}.
        //   job 4: node 2, its other quad.
        var r = Scenario.Run(SchedExtPolicy.PolicyName, TwoDgx1, QuadJobs);

        Assert.Equal("dgx1-v100-0001:4,5,6,7", r.Where(1));
        Assert.Equal("dgx1-v100-0001:0,1,2,3", r.Where(3));
        Assert.StartsWith("dgx1-v100-0002:", r.Where(2), StringComparison.Ordinal);
        Assert.StartsWith("dgx1-v100-0002:", r.Where(4), StringComparison.Ordinal);
        Assert.Equal((5, 5), (r.MultiGpuPlaced, r.AllNvLink));
        Assert.Equal(0, r.NumaSplit);
        Assert.Equal(0, r.Timeline.At(50).StrandedNvLink4);
        Assert.All(r.DelayOf, d => Assert.Equal(0, d));
    }

    [Fact]
    public void SchedExt_LaterSmallJob_IsNotBlockedByAWaitingBigOne()
    {
        // One HGX H200 (8 GPUs, all NVLink):
        //   job 0 t=0 4 GPUs runs 100 -> placed at 0
        //   job 1 t=1 8 GPUs          -> only 4 free: waits
        //   job 2 t=2 2 GPUs runs 100 -> fits now: placed at 2 (no head-of-line blocking), ends at 102
        //   t=100 job 0 ends: 6 free, job 1 still waits; t=102 job 2 ends: 8 free -> job 1 starts at 102 (delay 101), ends 202
        var r = Scenario.Run(SchedExtPolicy.PolicyName, "1x hgx-h200", """
            arrival,duration,gpus,interconnect
            0,100,4,nvlink
            1,100,8,nvlink
            2,100,2,nvlink
            """);

        Assert.Equal([0, 101, 0], r.DelayOf);
        Assert.Equal(202, r.Makespan);
        Assert.Equal(1, r.Timeline.At(50).Pending);
        Assert.Equal(0, r.Timeline.At(150).Pending);
        Assert.Equal(0, r.NeverPlaced);
    }

    [Theory]
    [InlineData("schedext: no 8-GPU NVLink set on a DGX-1V", SchedExtPolicy.PolicyName, 1)]
    [InlineData("first-fit: blind to links, places it", FirstFitPolicy.PolicyName, 0)]
    [InlineData("random: blind to links, places it", RandomFeasiblePolicy.PolicyName, 0)]
    public void EightGpuNvLinkJob_OnDgx1Only_IsUnplaceableOnlyForSchedExt(string name, string policy, int unplaceable)
    {
        _ = name;

        // A DGX-1V's 8 GPUs are not all NVLink-joined (0-5 is SYS), so SchedExt can never place an 8-GPU NVLink job;
        // the blind policies only count 8 GPUs and place it. The 1-GPU job afterwards is placed by all of them.
        var r = Scenario.Run(policy, "2x dgx1-v100", """
            arrival,duration,gpus,interconnect
            0,10,8,nvlink
            1,10,1,any
            """);

        Assert.Equal(unplaceable, r.Unplaceable);
        Assert.Equal(unplaceable, r.NeverPlaced);
        Assert.Equal(2 - unplaceable, r.Placed);
    }

    [Fact]
    public void RequiredVm_OnBareMetalCluster_IsUnplaceableForEveryPolicy()
    {
        foreach (var policy in SimulationSettings.AllPolicies)
        {
            var r = Scenario.Run(policy, "1x hgx-h200", """
                arrival,duration,gpus,interconnect,rdma,machine
                0,10,1,any,none,vm
                """);
            Assert.Equal(1, r.Unplaceable);
        }
    }

    [Fact]
    public void RdmaRequired_OnNodeWithoutNics_IsUnplaceableForSchedExtAndAMissForFirstFit()
    {
        // V100Pairs4 has no NICs: no GPU can ever be near one, so SchedExt rejects an RDMA-required job outright
        // (unplaceable), while first-fit only counts GPUs and hands out two without a near NIC.
        var schedext = Scenario.Run(SchedExtPolicy.PolicyName, "1x v100-pairs4", """
            arrival,duration,gpus,interconnect,rdma
            0,10,2,any,required
            """);
        var firstFit = Scenario.Run(FirstFitPolicy.PolicyName, "1x v100-pairs4", """
            arrival,duration,gpus,interconnect,rdma
            0,10,2,any,required
            """);

        Assert.Equal(1, schedext.Unplaceable);
        Assert.Equal((1, 1), (firstFit.RdmaAsked, firstFit.RdmaMissed));
    }
}
