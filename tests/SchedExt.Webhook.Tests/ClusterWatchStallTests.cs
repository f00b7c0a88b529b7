using k8s;
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
        api.PutNode(KubeObjects.Node("dgx-0", 8, TopologyAnnotation.Serialize(Topologies.NvSwitch8())));
        api.HangNext("LIST nodes");
        using var host = new WebhookHost(
            TestData.ReadText("webhook", "policy.yaml"),
            settings: new Dictionary<string, string> { ["SchedExt:Webhook:WatchCluster"] = "true" },
            services: s =>
            {
                s.AddSingleton(new ClusterAccess(Available: true));
                s.AddSingleton<IKubernetes>(api.CreateClient(TimeSpan.FromSeconds(3)));
            });
        _ = host.Client;
        var view = host.Services.GetRequiredService<ClusterView>();

        // The stalled list ends in the client's timeout (an OperationCanceledException while the host is not stopping);
        // the next list answers.
        for (var i = 0; i < 600 && !view.Current.IsKnown; i++)
        {
            await Task.Delay(50);
        }

        Assert.True(view.Current.IsKnown, "the node list was not retried after the stalled one timed out");
        Assert.True(api.Requests("LIST nodes") >= 2, "the stalled list was not followed by another");
        Assert.Equal("dgx-0", Assert.Single(view.Current.Shapes).ExampleNode);
    }
}
