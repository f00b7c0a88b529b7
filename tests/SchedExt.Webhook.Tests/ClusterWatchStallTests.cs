using System.Net;
using k8s;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using SchedExt.Testing;
using SchedExt.Topology.Annotation;
using SchedExt.Webhook.Feasibility;

namespace SchedExt.Webhook.Tests;

/// <summary>An API server that accepts a request and never answers: the client's timeout ends it and the watch carries on.</summary>
public sealed class ClusterWatchStallTests
{
    [Fact]
    public async Task Watch_ListTimesOut_RetriedUntilTheNodesAreKnown()
    {
        await using var api = await FakeApiServer.StartAsync();
        api.HangNext("LIST nodes");
        using var host = WatchingHost(api);
        var view = host.Services.GetRequiredService<ClusterView>();

        // The stalled list ends in the client's timeout (an OperationCanceledException while the host is not stopping);
        // the next list answers.
        await WaitUntil(() => view.Current.IsKnown, "the node list was not retried after the stalled one timed out");

        Assert.True(api.Requests("LIST nodes") >= 2, "the stalled list was not followed by another");
        Assert.Equal("dgx-0", Assert.Single(view.Current.Shapes).ExampleNode);
    }

    [Fact]
    public async Task Ready_NamespaceListFails_NotReadyUntilNamespaceLabelsAreKnown()
    {
        // Ready with the nodes alone once admitted pods of a labelled namespace without that namespace's defaults.
        await using var api = await FakeApiServer.StartAsync();
        api.PutNamespace(new V1Namespace { ApiVersion = "v1", Kind = "Namespace", Metadata = new V1ObjectMeta { Name = "research", Labels = new Dictionary<string, string> { ["schedext.io/team"] = "research" } } });
        // Failing until released, not hanging until a timeout: the early probe below must not race the retry.
        api.FailNext("LIST namespaces", 100_000, HttpStatusCode.InternalServerError);
        using var host = WatchingHost(api);
        var view = host.Services.GetRequiredService<ClusterView>();
        await WaitUntil(() => view.Current.IsKnown, "the nodes were not listed");

        using (var early = await Ready(host))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, early.StatusCode);
            Assert.Contains("namespace labels not synced yet", await early.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // The API server recovers: the next list (after the watch's back-off) answers.
        api.ClearFailures();
        await WaitUntil(
            async () =>
            {
                using var again = await Ready(host);
                return again.StatusCode == HttpStatusCode.OK;
            },
            "never ready after the namespace list was retried");
        Assert.NotNull(view.Current.LabelsOf("research"));
    }

    [Fact]
    public async Task Watch_ConnectionDiesSilently_ListedAndWatchedAgain()
    {
        // The connections are cut without a FIN or RST: nothing tells the client, and KubernetesClient puts no timeout on
        // a watch. Before, the node added below was never seen.
        await using var api = await FakeApiServer.StartAsync();
        api.BookmarkInterval = TimeSpan.FromMilliseconds(200);
        using var proxy = new BlackholeProxy(api.Url);
        using var host = WatchingHost(api, new Kubernetes(new KubernetesClientConfiguration { Host = proxy.Url }), watchSilence: "00:00:02");
        var view = host.Services.GetRequiredService<ClusterView>();
        await WaitUntil(() => view.Current.IsKnown && api.OpenWatches("nodes") == 1, "the nodes were not listed and watched");

        proxy.FreezeOpenConnections();
        api.PutNode(KubeObjects.Node("dgx-1", 8, TopologyAnnotation.Serialize(Topologies.NvSwitch8())));

        await WaitUntil(() => view.Current.Shapes.Sum(s => s.Nodes) == 2, "the node added after the cut was never seen");
    }

    /// <summary>A webhook watching <paramref name="api"/> (which gets one 8-GPU node) with a 3 s client timeout, or through <paramref name="client"/>.</summary>
    private static WebhookHost WatchingHost(FakeApiServer api, IKubernetes? client = null, string? watchSilence = null)
    {
        api.PutNode(KubeObjects.Node("dgx-0", 8, TopologyAnnotation.Serialize(Topologies.NvSwitch8())));
        var settings = new Dictionary<string, string> { ["SchedExt:Webhook:WatchCluster"] = "true" };
        if (watchSilence is not null)
        {
            settings["SchedExt:Webhook:WatchSilence"] = watchSilence;
        }

        var host = new WebhookHost(
            TestData.ReadText("webhook", "policy.yaml"),
            settings: settings,
            services: s =>
            {
                s.AddSingleton(new ClusterAccess(Available: true));
                s.AddSingleton(client ?? api.CreateClient(TimeSpan.FromSeconds(3)));
            });
        _ = host.Client;
        return host;
    }

    private static Task WaitUntil(Func<bool> condition, string failure) => WaitUntil(() => Task.FromResult(condition()), failure);

    private static async Task WaitUntil(Func<Task<bool>> condition, string failure)
    {
        // 30 s: a stalled request takes the 3 s timeout and a back-off before the next one.
        for (var i = 0; i < 600 && !await condition(); i++)
        {
            await Task.Delay(50);
        }

        Assert.True(await condition(), failure);
    }

    private static Task<HttpResponseMessage> Ready(WebhookHost host) => host.Client.GetAsync(new Uri("/readyz", UriKind.Relative));
}
