using System.Net;
using k8s;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using SchedExt.Testing;
using SchedExt.Topology.Annotation;
using SchedExt.Topology.Requests;
using SchedExt.Webhook.Feasibility;

namespace SchedExt.Webhook.Tests;

/// <summary>Node shapes and namespace labels from list+watch against the in-process fake API server.</summary>
public sealed class ClusterWatchTests : IAsyncLifetime, IDisposable
{
    private FakeApiServer _api = null!;
    private WebhookHost _host = null!;

    private ClusterView View => _host.Services.GetRequiredService<ClusterView>();

    public async Task InitializeAsync()
    {
        _api = await FakeApiServer.StartAsync();
        _api.PutNode(KubeObjects.Node("dgx-0", 8, TopologyAnnotation.Serialize(Topologies.NvSwitch8()), new Dictionary<string, string> { [SchedExtKeys.Machine] = "bare-metal" }));
        _api.PutNode(KubeObjects.Node("cpu-0", null));
        _api.PutNamespace(new V1Namespace
        {
            ApiVersion = "v1",
            Kind = "Namespace",
            Metadata = new V1ObjectMeta { Name = "default", Labels = new Dictionary<string, string> { ["schedext.io/tier"] = "gold" } },
        });
        _host = new WebhookHost(
            TestData.ReadText("webhook", "policy.yaml"),
            settings: new Dictionary<string, string> { ["SchedExt:Webhook:WatchCluster"] = "true" },
            services: s =>
            {
                s.AddSingleton(new ClusterAccess(Available: true));
                s.AddSingleton<IKubernetes>(_api.CreateClient());
            });
        _ = _host.Client;
        await WaitFor(() => View.Current.IsKnown && View.Current.LabelsOf("default") is not null);
    }

    public async Task DisposeAsync()
    {
        Dispose();
        await _api.DisposeAsync();
    }

    public void Dispose()
    {
        _host?.Dispose();
        _host = null!;
    }

    [Fact]
    public async Task Watch_FirstList_MakesReadyAndFeedsFeasibilityAndNamespaceLabels()
    {
        using var ready = await _host.Client.GetAsync(new Uri("/readyz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var shape = Assert.Single(View.Current.Shapes);
        Assert.Equal(("dgx-0", 8, MachineKind.BareMetal), (shape.ExampleNode, shape.Shape.GpuCount, shape.Machine));

        var review = await _host.PostAsync(Reviews.OptedIn((SchedExtKeys.Gpus, "16")).ToJsonString());

        Assert.False(review.Allowed);
        Assert.Contains("on dgx-0", review.Response["status"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        var admitted = await _host.PostAsync(Reviews.OptedIn((SchedExtKeys.Gpus, "8")).ToJsonString());
        Assert.Contains(admitted.Patch, op => op!["value"]?["fleet.schedext.io/tier"]?.GetValue<string>() == "gold");
    }

    [Fact]
    public async Task Watch_NodeWithAbsurdGpuCount_OthersStayInTheView()
    {
        // "1e100" cannot be read as a count; it once failed every re-list after emptying the node view.
        var huge = KubeObjects.Node("huge-0", 8);
        huge.Status.Allocatable["nvidia.com/gpu"] = new ResourceQuantity("1e100");
        _api.PutNode(huge);
        _api.PutNode(KubeObjects.Node("big-0", 16));
        await WaitFor(() => View.Current.Shapes.Count == 2);

        // The re-list after the watch ends reads huge-0 again.
        var lists = await EndWatchesAfterAsync(() => _api.PutNode(KubeObjects.Node("big-1", 16)));
        await WaitFor(() => View.Current.NodeCount == 3);
        Assert.Equal(lists + 1, _api.Requests("LIST nodes"));
        Assert.Equal(["big-0", "dgx-0"], View.Current.Shapes.Select(s => s.ExampleNode).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Watch_NodeAddedThenDeleted_UpdatesShapes()
    {
        _api.PutNode(KubeObjects.Node("big-0", 16));
        await WaitFor(() => View.Current.Shapes.Count == 2);

        var review = await _host.PostAsync(Reviews.OptedIn((SchedExtKeys.Gpus, "16")).ToJsonString());
        Assert.True(review.Allowed);

        _api.DeleteNode("big-0");
        await WaitFor(() => View.Current.Shapes.Count == 1);
    }

    [Fact]
    public async Task Watch_HistoryCompactedAndWatchEnded_ListsAgainAndKeepsUp()
    {
        // The ended watch cannot be resumed from any version it saw: the webhook must list again, then watch from there.
        var lists = await EndWatchesAfterAsync(() =>
            _api.PutNode(KubeObjects.Node("vm-0", 2, labels: new Dictionary<string, string> { [SchedExtKeys.Machine] = "vm" })));

        await WaitFor(() => View.Current.Shapes.Any(s => s.ExampleNode == "vm-0" && s.Machine == MachineKind.Vm));
        Assert.Equal(lists + 1, _api.Requests("LIST nodes"));
        _api.DeleteNode("vm-0");
        await WaitFor(() => View.Current.Shapes.All(s => s.ExampleNode != "vm-0"));
    }

    [Fact]
    public async Task Watch_PolicyResourceNameChanged_NodesReadAgainWithIt()
    {
        // A node offering its GPUs under another resource name counts once the policy names that resource.
        _api.PutNode(KubeObjects.Node("other-0", 4, gpuResource: "example.com/gpu"));
        _api.PutNode(KubeObjects.Node("cpu-2", null));

        // Watch events are applied in order: once the marker (a shape of its own) shows, other-0 has been read too.
        _api.PutNode(KubeObjects.Node("marker-0", 2));
        await WaitFor(() => View.Current.Shapes.Any(s => s.ExampleNode == "marker-0"));
        Assert.DoesNotContain(View.Current.Shapes, s => s.ExampleNode == "other-0");

        File.WriteAllText(_host.PolicyFile, TestData.ReadText("webhook", "policy.yaml").Replace("resourceName: nvidia.com/gpu", "resourceName: example.com/gpu", StringComparison.Ordinal));
        Assert.Equal(Policy.ReloadOutcome.Loaded, _host.Services.GetRequiredService<Policy.PolicyStore>().Reload());

        // The watch notices at its next event (or bookmark) and lists again with the new name.
        _api.PutNode(KubeObjects.Node("cpu-1", null));
        await WaitFor(() => View.Current.Shapes.Any(s => s.ExampleNode == "other-0"));
    }

    /// <summary>
    /// Once the node and namespace watches are open: forgets the watch history, makes <paramref name="change"/>, ends every open watch and
    /// waits until the webhook watches nodes again (it has listed again by then); returns the node lists before.
    /// </summary>
    private async Task<int> EndWatchesAfterAsync(Action change)
    {
        await WaitFor(() => _api.OpenWatches("nodes") == 1 && _api.OpenWatches("namespaces") == 1);
        var (lists, watches) = (_api.Requests("LIST nodes"), _api.Requests("WATCH nodes"));
        _api.ExpireWatchHistory();
        change();
        Assert.Equal(2, _api.CloseWatches());
        await WaitFor(() => _api.Requests("WATCH nodes") > watches);
        return lists;
    }

    private static async Task WaitFor(Func<bool> condition)
    {
        // Bounded by a generous deadline so a broken watch fails the test instead of hanging it.
        for (var i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(50);
        }

        Assert.True(condition(), "condition not reached within 10 s");
    }
}
