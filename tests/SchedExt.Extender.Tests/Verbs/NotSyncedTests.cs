using System.Text.Json.Nodes;
using SchedExt.Extender.Tests.Binding;
using SchedExt.Testing;
using SchedExt.Topology.Annotation;
using SchedExt.Topology.Shapes;

namespace SchedExt.Extender.Tests.Verbs;

/// <summary>
/// Filter before the first full sync (a restarted extender beside a running kube-scheduler): an Error, which sends the
/// pod to the scheduler's backoff queue, not every node rejected as unknown, which leaves it unschedulable for minutes.
/// </summary>
public sealed class NotSyncedTests
{
    private const string GpuPod = """{"metadata":{"name":"train","namespace":"ml","uid":"u-1"},"spec":{"containers":[{"name":"c","resources":{"limits":{"nvidia.com/gpu":"2"}}}]}}""";
    private const string CpuPod = """{"metadata":{"name":"web","namespace":"ml","uid":"u-2"},"spec":{"containers":[{"name":"c"}]}}""";

    [Fact]
    public async Task Filter_BeforeTheFirstSync_GpuPodGetsAnErrorOtherPodsPass()
    {
        await using var api = await FakeApiServer.StartAsync();
        api.PutNode(KubeObjects.Node("dgx", 8, TopologyAnnotation.Serialize(ReferenceTopologies.Dgx1V100)));
        api.FailNext("LIST nodes", 100_000, System.Net.HttpStatusCode.Forbidden);
        await using var replica = new ApiBackedExtender(api);
        using var client = replica.CreateClient();
        for (var i = 0; i < 1200 && api.Requests("LIST nodes") == 0; i++)
        {
            await Task.Delay(25);
        }

        Assert.True(api.Requests("LIST nodes") > 0, "the replica never tried to list the nodes");

        var gpu = await FilterAsync(client, GpuPod);
        var cpu = await FilterAsync(client, CpuPod);

        Assert.False(replica.State.Current.Synced);
        Assert.Equal(SchedExt.Extender.Verbs.ExtenderVerbs.NotSynced, gpu["Error"]!.GetValue<string>());
        Assert.Empty(gpu["NodeNames"]!.AsArray());
        Assert.Null(gpu["FailedNodes"]);
        Assert.Equal(string.Empty, cpu["Error"]!.GetValue<string>());
        Assert.Equal(["dgx"], cpu["NodeNames"]!.AsArray().Select(n => n!.GetValue<string>()));

        // Once synced, the same request is filtered as usual.
        api.ClearFailures();
        await replica.WaitSyncedAsync(1);
        var after = await FilterAsync(client, GpuPod);
        Assert.Equal(string.Empty, after["Error"]!.GetValue<string>());
        Assert.Equal(["dgx"], after["NodeNames"]!.AsArray().Select(n => n!.GetValue<string>()));
    }

    private static async Task<JsonNode> FilterAsync(HttpClient client, string pod)
    {
        using var body = new StringContent($$"""{"Pod":{{pod}},"NodeNames":["dgx"]}""", System.Text.Encoding.UTF8, "application/json");
        using var response = await client.PostAsync(new Uri("/filter", UriKind.Relative), body);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }
}
