using SchedExt.Simulator.Engine;
using SchedExt.Simulator.Inputs;

namespace SchedExt.Simulator.Tests;

public class SimulatedClusterTests
{
    // 9 HGX nodes: 0001-0008 form rack 001, 0009 rack 002; all in block 01.
    private static SimulatedCluster NineHgx() => new(ClusterInput.FromSpec("9x hgx-h200"), new ShapeFactsCache());

    [Fact]
    public void AllocateAndRelease_KeepTheLiveSnapshotInStep()
    {
        var cluster = NineHgx();
        cluster.Allocate(0, 0x0F, "g");
        cluster.Allocate(8, 0xFF, "g");

        var snapshot = cluster.Snapshot;
        Assert.Equal(0x0FUL, snapshot.FindNode("hgx-h200-0001")!.UsedGpus);
        Assert.Equal(0x0FUL, snapshot.UsedOn("hgx-h200-0001"));
        Assert.Equal((2, 1, 2), snapshot.GroupLocality("g", "hgx-h200-rack-001", "hgx-h200-block-01"));
        Assert.Equal((2, 1, 2), snapshot.GroupLocality("g", "hgx-h200-rack-002", "hgx-h200-block-01"));
        Assert.Equal(12, cluster.UsedGpus);

        cluster.Release(8, 0xFF, "g");
        Assert.Equal((1, 0, 1), snapshot.GroupLocality("g", "hgx-h200-rack-002", "hgx-h200-block-01"));
        Assert.Equal(0UL, snapshot.FindNode("hgx-h200-0009")!.UsedGpus);
        Assert.Equal(4, cluster.UsedGpus);
    }

    [Fact]
    public void Allocate_GpuAlreadyHeld_Throws()
    {
        var cluster = NineHgx();
        cluster.Allocate(0, 0x03, null);

        var e = Assert.Throws<InvalidOperationException>(() => cluster.Allocate(0, 0x06, null));
        Assert.Contains("GPUs 1 on hgx-h200-0001 are not free", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Stranded_FollowsEveryChange()
    {
        // HGX: all NVLink, so stranded for 4 = free mod 4 on each node; for 8 = free unless 8 are free.
        var cluster = NineHgx();
        Assert.Equal((0, 0), (cluster.Stranded(0), cluster.Stranded(1)));
        cluster.Allocate(0, 0x07, null);
        Assert.Equal((1, 5), (cluster.Stranded(0), cluster.Stranded(1)));
        cluster.Release(0, 0x07, null);
        Assert.Equal((0, 0), (cluster.Stranded(0), cluster.Stranded(1)));
    }
}
