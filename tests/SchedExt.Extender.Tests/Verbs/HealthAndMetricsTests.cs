using System.Net;
using Microsoft.Extensions.Time.Testing;
using SchedExt.Testing;

namespace SchedExt.Extender.Tests.Verbs;

public sealed class HealthAndMetricsTests
{
    [Fact]
    public async Task Metrics_AfterFilterAndBind_ExposeEveryDocumentedFamily()
    {
        using var factory = new ExtenderFactory(GoldenCluster.Objects());
        await factory.PostAsync("filter", """{"Pod":{"metadata":{"name":"m","namespace":"n","uid":"u-m","annotations":{"schedext.io/interconnect":"nvlink"}},"spec":{"containers":[{"resources":{"limits":{"nvidia.com/gpu":"4"}}}]}},"NodeNames":["dgx-free","dgx-split","pcie-metal"]}""");
        await factory.PostAsync("bind", """{"PodName":"m","PodNamespace":"n","PodUID":"u-m","Node":"dgx-free"}""");
        using var client = factory.CreateClient();
        var text = await client.GetStringAsync("/metrics");
        foreach (var family in new[]
        {
            "schedext_extender_request_duration_seconds_bucket{verb=\"filter\"",
            "schedext_extender_requests_total{verb=\"bind\",code=\"200\"} 1",
            "schedext_extender_filtered_nodes_total{reason=\"link_too_weak\"} 2",
            "schedext_extender_binds_total{outcome=\"bound\"} 1",
            "schedext_extender_placement_score_count 1",
            "schedext_extender_snapshot_age_seconds",
            "schedext_extender_nodes 5",
            "schedext_extender_free_gpu_groups{shape=",
            "schedext_extender_free_gpus{shape=",
        })
        {
            Assert.Contains(family, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Health_SnapshotLoaded_LiveAndReady()
    {
        using var factory = new ExtenderFactory(GoldenCluster.Objects());
        await factory.WaitSyncedAsync();
        using var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);
    }

    [Fact]
    public async Task Readyz_WatchSilentBeyondStaleAfter_Returns503ThenLiveStill200()
    {
        await using var api = await FakeApiServer.StartAsync();

        // Bookmarks come on the real clock and each one counts as word from the API server: none during the test.
        api.BookmarkInterval = TimeSpan.FromHours(1);
        api.PutNode(KubeObjects.Node("n1", 8));
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var replica = new Binding.ApiBackedExtender(api, time);
        using var client = replica.CreateClient();
        await replica.WaitSyncedAsync(1);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);

        // Default StaleAfter is 3 minutes; move the clock past it without any watch traffic being observed.
        time.Advance(TimeSpan.FromMinutes(10));
        var stale = await client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, stale.StatusCode);
        Assert.Contains("no word from the API server", await stale.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task Readyz_ApiServerUnreachable_NotReadyUntilFirstSync()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var api = await FakeApiServer.StartAsync();
        api.FailNext("LIST nodes", 100_000, HttpStatusCode.ServiceUnavailable);
        await using var replica = new Binding.ApiBackedExtender(api, time);
        using var client = replica.CreateClient();
        var response = await client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("waiting for the first full sync", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
