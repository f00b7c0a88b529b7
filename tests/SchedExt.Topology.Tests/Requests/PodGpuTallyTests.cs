using SchedExt.Topology.Requests;

namespace SchedExt.Topology.Tests.Requests;

public sealed class PodGpuTallyTests
{
    [Theory]
    [InlineData("no containers hold GPUs", new long[] { 0, 0 }, new long[] { }, 0)]
    [InlineData("app containers add up", new long[] { 4, 8 }, new long[] { }, 12)]
    [InlineData("a larger init container decides", new long[] { 1 }, new long[] { 8 }, 8)]
    [InlineData("init containers run one at a time: only the largest counts", new long[] { 2, 2 }, new long[] { 3, 3 }, 4)]
    [InlineData("init containers alone", new long[] { }, new long[] { 2, 5 }, 5)]
    public void Total_ContainersAndInitContainers_IsLargerOfSumAndLargestInit(string situation, long[] containers, long[] init, long expected)
    {
        // A mutable struct: added to in loops, never through a delegate (which would add to a boxed copy).
        var tally = default(PodGpuTally);
        foreach (var count in containers)
        {
            tally.AddContainer(count);
        }

        foreach (var count in init)
        {
            tally.AddInitContainer(count);
        }

        Assert.True(expected == tally.Total, $"{situation}: expected {expected}, got {tally.Total}");
    }

    [Theory]
    [InlineData("a sidecar runs beside the app containers", new long[] { 2 }, "s1", 3)]
    [InlineData("an init container after a sidecar runs beside it", new long[] { 2 }, "s1 4", 5)]
    [InlineData("an init container before a sidecar runs alone", new long[] { 2 }, "4 s1", 4)]
    [InlineData("sidecars add up", new long[] { }, "s1 s2 2", 5)]
    [InlineData("sidecars alone", new long[] { }, "s3", 3)]
    public void Total_SidecarInitContainers_AsKubernetesPodRequests(string situation, long[] containers, string init, long expected)
    {
        var tally = default(PodGpuTally);
        foreach (var count in containers)
        {
            tally.AddContainer(count);
        }

        // In order: "s<n>" is a sidecar (restartPolicy: Always) with n GPUs, "<n>" an ordinary init container.
        foreach (var entry in init.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var sidecar = entry.StartsWith('s');
            tally.AddInitContainer(long.Parse(sidecar ? entry[1..] : entry, System.Globalization.CultureInfo.InvariantCulture), sidecar);
        }

        Assert.True(expected == tally.Total, $"{situation}: expected {expected}, got {tally.Total}");
    }

    [Fact]
    public void AddContainer_CountsNearLongMax_SaturatesInsteadOfOverflowing()
    {
        var tally = default(PodGpuTally);
        tally.AddContainer(long.MaxValue);
        tally.AddContainer(long.MaxValue);

        Assert.Equal(PodGpuTally.Saturated, tally.Total);
    }

    [Theory]
    [InlineData(4L, 4L, 4L)]
    [InlineData(4L, null, 4L)]
    [InlineData(null, 2L, 2L)]
    [InlineData(null, null, 0L)]
    [InlineData(-1L, null, 0L)]
    public void ContainerCount_LimitElseRequest(long? limit, long? request, long expected) =>
        Assert.Equal(expected, PodGpuTally.ContainerCount(limit, request));
}
