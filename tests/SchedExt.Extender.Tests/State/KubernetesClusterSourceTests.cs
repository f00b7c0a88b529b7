using Microsoft.Extensions.Logging;
using k8s;
using k8s.Models;
using SchedExt.Extender.Sources;
using SchedExt.Testing;
using SchedExt.Topology.Annotation;
using SchedExt.Topology.Shapes;

namespace SchedExt.Extender.Tests.State;

public sealed class KubernetesClusterSourceTests : IAsyncLifetime
{
    private static readonly string H200 = TopologyAnnotation.Serialize(ReferenceTopologies.HgxH200);
    private static readonly string V100Pairs = TopologyAnnotation.Serialize(ReferenceTopologies.V100Pairs4);

    private FakeApiServer _server = null!;
    private readonly List<(KubernetesClusterSource Source, Kubernetes Client)> _running = [];

    public async Task InitializeAsync()
    {
        _server = await FakeApiServer.StartAsync();
        _server.BookmarkInterval = TimeSpan.FromMilliseconds(100);
    }

    public async Task DisposeAsync()
    {
        foreach (var (source, client) in _running)
        {
            await source.StopAsync(CancellationToken.None);
            source.Dispose();
            client.Dispose();
        }

        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Start_InitialList_MarksSyncedWithGpuNodesAndHoldingPods()
    {
        _server.PutNode(KubeObjects.Node("gpu-1", 8, H200));
        _server.PutNode(KubeObjects.Node("gpu-2", 4, V100Pairs));
        _server.PutNode(KubeObjects.Node("cpu-1", null));
        _server.PutPod(KubeObjects.Pod("ml", "train", "gpu-1", "0,1,2,3", placementGroup: "g"));
        _server.PutPod(KubeObjects.Pod("ml", "done", "gpu-1", "4,5", phase: "Succeeded"));
        _server.PutPod(KubeObjects.Pod("ml", "waiting", null, null, phase: "Pending"));
        var kit = new SourceKit();

        await StartAsync(kit);
        await SourceKit.WaitUntilAsync(() => kit.State.Current.Synced, "synced");

        var snapshot = kit.State.Current;
        Assert.Equal(["gpu-1", "gpu-2"], snapshot.Nodes.Keys.Order(StringComparer.Ordinal));
        var allocation = Assert.Single(snapshot.Allocations.Values);
        Assert.Equal(("train", 0b1111UL, "g"), (allocation.Name, allocation.Gpus, allocation.PlacementGroup));
        Assert.Equal(0b1111UL, snapshot.FindNode("gpu-1")!.UsedGpus);
        Assert.NotNull(kit.State.LastContact);
        Assert.Equal(1, _server.Requests("LIST nodes"));
        Assert.Equal(1, _server.Requests("LIST pods"));
    }

    [Fact]
    public async Task Start_MorePodsThanAPage_ReadsEveryPageAndWatchesFromTheList()
    {
        // 1,200 pods at the source's 500 a page: three pages (500, 500, 200) of one snapshot; 150 nodes fit in one.
        for (var n = 0; n < 150; n++)
        {
            _server.PutNode(KubeObjects.Node($"gpu-{n:D3}", 8, H200));
        }

        for (var i = 0; i < 1200; i++)
        {
            _server.PutPod(KubeObjects.Pod("ml", $"p{i:D4}", $"gpu-{i / 8:D3}", $"{i % 8}"));
        }

        var kit = new SourceKit();
        await StartAsync(kit);
        await SourceKit.WaitUntilAsync(() => kit.State.Current.Synced, "synced");

        var snapshot = kit.State.Current;
        Assert.Equal(1200, snapshot.Allocations.Count);
        Assert.Equal(150, snapshot.Nodes.Count);
        Assert.All(snapshot.Nodes.Values, n => Assert.Equal(0xFFUL, n.UsedGpus));
        Assert.Equal((3, 1), (_server.Requests("LIST pods"), _server.Requests("LIST nodes")));

        // The watch resumes from the paged list's version: a later change arrives, nothing is listed again.
        _server.DeletePod("ml", "p1199");
        await SourceKit.WaitUntilAsync(() => kit.State.Current.FindNode("gpu-149")?.UsedGpus == 0x7FUL, "the deletion after the list");
        Assert.Equal(1199, kit.State.Current.Allocations.Count);
        Assert.Equal(3, _server.Requests("LIST pods"));
    }

    [Fact]
    public async Task Watch_Changes_UpdateSnapshot()
    {
        _server.PutNode(KubeObjects.Node("gpu-1", 8, H200));
        var kit = new SourceKit();
        await StartAsync(kit);
        await SourceKit.WaitUntilAsync(() => kit.State.Current.Synced, "synced");

        _server.PutPod(KubeObjects.Pod("ml", "a", "gpu-1", "0,1"));
        _server.PutPod(KubeObjects.Pod("ml", "b", "gpu-1", "2"));
        _server.PutNode(KubeObjects.Node("gpu-2", 4, V100Pairs));
        await SourceKit.WaitUntilAsync(() => kit.State.Current.FindNode("gpu-1")?.UsedGpus == 0b111 && kit.State.Current.FindNode("gpu-2") is not null, "pods and node added");

        // Finishing leaves the field selector (a DELETED event); deletion and a node leaving work alike.
        _server.ModifyPod("ml", "a", p => p.Status.Phase = "Succeeded");
        _server.DeletePod("ml", "b");
        _server.DeleteNode("gpu-2");
        _server.ModifyNode("gpu-1", n => n.Metadata.Labels["schedext.io/rack"] = "r1");
        await SourceKit.WaitUntilAsync(
            () => kit.State.Current is var s && s.Allocations.Count == 0 && s.FindNode("gpu-2") is null && s.FindNode("gpu-1")?.Info.Rack == "r1",
            "pods freed, node removed, label seen");

        Assert.Equal(0UL, kit.State.Current.FindNode("gpu-1")!.UsedGpus);
    }

    [Fact]
    public async Task Watch_Bookmarks_KeepContactFresh()
    {
        var kit = new SourceKit();
        await StartAsync(kit);
        await SourceKit.WaitUntilAsync(() => kit.State.Current.Synced, "synced");
        var first = kit.State.LastContact;

        await SourceKit.WaitUntilAsync(() => kit.State.LastContact > first, "contact refreshed by a bookmark");
    }

    [Fact]
    public async Task Watch_HistoryExpired_RelistsAndLosesNothing()
    {
        _server.PutNode(KubeObjects.Node("gpu-1", 8, H200));
        _server.PutPod(KubeObjects.Pod("ml", "old", "gpu-1", "7"));
        var kit = new SourceKit(new ExtenderOptions { WatchTimeout = TimeSpan.FromSeconds(1) });
        await StartAsync(kit);
        await SourceKit.WaitUntilAsync(() => kit.State.Current.Synced, "synced");

        // Keep the watches down while the cluster changes, then forget the history they would resume from.
        _server.FailNext("WATCH pods", 100_000, System.Net.HttpStatusCode.ServiceUnavailable);
        _server.FailNext("WATCH nodes", 100_000, System.Net.HttpStatusCode.ServiceUnavailable);
        var (podWatches, nodeWatches) = (_server.Requests("WATCH pods"), _server.Requests("WATCH nodes"));
        await SourceKit.WaitUntilAsync(
            () => _server.Requests("WATCH pods") > podWatches + 1 && _server.Requests("WATCH nodes") > nodeWatches + 1,
            "both watches closed and failing to reconnect");
        _server.PutPod(KubeObjects.Pod("ml", "new", "gpu-1", "0,1,2,3"));
        _server.DeletePod("ml", "old");
        _server.PutNode(KubeObjects.Node("gpu-2", 4, V100Pairs));
        _server.ExpireWatchHistory();
        _server.ClearFailures();

        await SourceKit.WaitUntilAsync(
            () => kit.State.Current is var s && s.FindNode("gpu-1")?.UsedGpus == 0b1111 && s.FindNode("gpu-2") is not null,
            "re-list after 410 Gone");
        Assert.Equal(2, _server.Requests("LIST pods"));
        Assert.Equal(2, _server.Requests("LIST nodes"));
        Assert.Equal(["new"], kit.State.Current.Allocations.Values.Select(a => a.Name));
    }

    [Fact]
    public async Task Start_UnreadableObjects_SyncsAndServesTheRest()
    {
        // Each of these once made the initial list throw, so the extender never became ready.
        const string LoneSurrogate = """{"v":1,"gpus":[{"i":0,"product":"\ud800"}],"gpuLinks":["X"]}""";
        _server.PutNode(KubeObjects.Node("gpu-1", 8, H200));
        _server.PutNode(KubeObjects.Node("bad-topology", 1, LoneSurrogate));
        var hugeCount = KubeObjects.Node("huge-count", 8, H200);
        hugeCount.Status.Allocatable["nvidia.com/gpu"] = new ResourceQuantity("1e100");
        _server.PutNode(hugeCount);
        var greedy = KubeObjects.Pod("ml", "greedy", "gpu-1", null);
        greedy.Spec.Containers[0].Resources = new V1ResourceRequirements { Limits = new Dictionary<string, ResourceQuantity> { ["nvidia.com/gpu"] = new("1e100") } };
        _server.PutPod(greedy);
        var kit = new SourceKit();

        await StartAsync(kit);
        await SourceKit.WaitUntilAsync(() => kit.State.Current.Synced, "synced");

        var snapshot = kit.State.Current;
        Assert.Equal(["bad-topology", "gpu-1"], snapshot.Nodes.Keys.Order(StringComparer.Ordinal));
        Assert.False(snapshot.FindNode("bad-topology")!.Info.Topology.IsKnown);
        Assert.StartsWith("malformed: gpus[0].product: invalid JSON string", snapshot.FindNode("bad-topology")!.Info.TopologyProblem, StringComparison.Ordinal);
        Assert.Equal(0xFFUL, snapshot.FindNode("gpu-1")!.UsedGpus);
    }

    [Fact]
    public async Task Watch_UnreadableAnnotationArrives_WatchKeepsDeliveringLaterChanges()
    {
        const string LoneSurrogate = """{"v":1,"gpus":[{"i":0,"product":"\ud800"},{"i":1}],"gpuLinks":["X NV1","NV1 X"]}""";
        _server.PutNode(KubeObjects.Node("gpu-1", 8, H200));
        _server.PutNode(KubeObjects.Node("gpu-2", 2, null));
        var kit = new SourceKit();
        await StartAsync(kit);
        await SourceKit.WaitUntilAsync(() => kit.State.Current.Synced, "synced");

        _server.ModifyNode("gpu-2", n => n.Metadata.Annotations = new Dictionary<string, string> { ["schedext.io/topology"] = LoneSurrogate });
        _server.ModifyNode("gpu-1", n => n.Metadata.Labels["schedext.io/rack"] = "r1");

        await SourceKit.WaitUntilAsync(() => kit.State.Current.FindNode("gpu-1")?.Info.Rack == "r1", "the change after the bad annotation");
        Assert.StartsWith("malformed: ", kit.State.Current.FindNode("gpu-2")!.Info.TopologyProblem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Watch_PodsFailingWhileNodesAnswer_ContactStopsAdvancing()
    {
        var kit = new SourceKit(new ExtenderOptions { WatchTimeout = TimeSpan.FromSeconds(1) });
        await StartAsync(kit);
        await SourceKit.WaitUntilAsync(() => kit.State.Current.Synced, "synced");

        // Pods can no longer be listed or watched (e.g. RBAC revoked); nodes keep sending bookmarks.
        _server.FailNext("WATCH pods", 100_000, System.Net.HttpStatusCode.Forbidden);
        _server.FailNext("LIST pods", 100_000, System.Net.HttpStatusCode.Forbidden);
        var podWatches = _server.Requests("WATCH pods");
        await SourceKit.WaitUntilAsync(() => _server.Requests("WATCH pods") > podWatches + 1, "the pod watch ended and failed to return");
        await NodeWatchesAnswerAsync();
        var stale = kit.State.LastContact;
        await NodeWatchesAnswerAsync();

        // The contact is the older of the two kinds': nodes' keeps moving, pods' does not, so readiness will see it.
        Assert.Equal(stale, kit.State.LastContact);
        _server.ClearFailures();
        await SourceKit.WaitUntilAsync(() => kit.State.LastContact > stale, "contact again once pods answer");
    }

    [Fact]
    public async Task Watch_ConnectionDiesSilently_WatchStartedAgainAfterItsTimeout()
    {
        // The connections are cut without a FIN or RST (a load balancer or conntrack dropping them, the API server's host
        // lost): nothing tells the client. KubernetesClient puts no timeout on a watch, so before, the read waited forever
        // and the pod below was never seen.
        _server.BookmarkInterval = TimeSpan.FromMilliseconds(200);
        _server.PutNode(KubeObjects.Node("gpu-1", 8, H200));
        using var proxy = new BlackholeProxy(_server.Url);
        var kit = new SourceKit(new ExtenderOptions { WatchTimeout = TimeSpan.FromSeconds(2) });
        await StartAsync(kit, new Kubernetes(new KubernetesClientConfiguration { Host = proxy.Url }));
        await SourceKit.WaitUntilAsync(() => kit.State.Current.Synced && _server.OpenWatches("pods") == 1, "synced and watching");

        proxy.FreezeOpenConnections();
        _server.PutPod(KubeObjects.Pod("ml", "train", "gpu-1", "0,1,2,3"));

        // Watch timeout 2 s + margin 1 s: a new watch within seconds, from the last version seen (no list).
        var listsBefore = _server.Requests("LIST pods");
        await SourceKit.WaitUntilAsync(() => kit.State.Current.Allocations.Count == 1, "the pod seen through a new watch");
        Assert.Equal(listsBefore, _server.Requests("LIST pods"));
    }

    [Fact]
    public async Task Relist_SlowerThanTheWatchSilenceLimit_ReportedAsAFailedListNotASilentWatch()
    {
        // The silence clock belongs to the watch: before, it ran during the relist too, so a list that took longer than
        // the limit and then failed was logged as a silent watch (and skipped its back-off).
        _server.BookmarkInterval = TimeSpan.FromHours(1);
        _server.PutNode(KubeObjects.Node("gpu-1", 8, H200));
        var kit = new SourceKit(new ExtenderOptions { WatchTimeout = TimeSpan.FromSeconds(1) });
        var log = new ListLogger<KubernetesClusterSource>();
        await StartAsync(kit, _server.CreateClient(TimeSpan.FromSeconds(4)), log);
        await SourceKit.WaitUntilAsync(() => kit.State.Current.Synced, "synced");

        // A node change moves the version on; the pods watch (no bookmarks) still resumes from before it, finds that
        // history gone (410) and lists again. That list goes unanswered until the client's 4 s timeout, longer than the
        // 1 s + 1 s silence limit.
        _server.HangNext("LIST pods");
        _server.PutNode(KubeObjects.Node("gpu-2", 8, H200));
        _server.ExpireWatchHistory();

        await SourceKit.WaitUntilAsync(() => log.Entries.Any(e => e.Id.Id == 2022 && e.Message.Contains("of pods", StringComparison.Ordinal)), "the failed pod list reported");
        Assert.DoesNotContain(log.Entries, e => e.Id.Id == 2027 && e.Message.Contains("of pods", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Start_ApiUnavailable_RetriesUntilItAnswers()
    {
        _server.PutNode(KubeObjects.Node("gpu-1", 8, H200));
        _server.FailNext("LIST nodes", 3);
        var kit = new SourceKit();

        await StartAsync(kit);
        await SourceKit.WaitUntilAsync(() => kit.State.Current.Synced, "synced after failures");

        Assert.Equal(4, _server.Requests("LIST nodes"));
        Assert.NotNull(kit.State.Current.FindNode("gpu-1"));
    }

    [Fact]
    public async Task Restart_NewSourceOverSameServer_RebuildsEveryAllocationFromAnnotations()
    {
        for (var n = 0; n < 4; n++)
        {
            _server.PutNode(KubeObjects.Node($"gpu-{n}", 8, H200, new Dictionary<string, string> { ["schedext.io/rack"] = $"r{n % 2}" }));
        }

        var first = new SourceKit();
        await StartAsync(first);
        await SourceKit.WaitUntilAsync(() => first.State.Current.Synced, "first synced");
        for (var i = 0; i < 12; i++)
        {
            var node = $"gpu-{i % 4}";
            var gpus = AssignedGpusFor(i);
            var pod = _server.PutPod(KubeObjects.Pod("ml", $"p{i}", null, null, phase: "Pending", placementGroup: i % 3 == 0 ? "grp" : null));
            _server.ModifyPod("ml", pod.Metadata.Name, p =>
            {
                p.Metadata.Annotations["schedext.io/assigned-gpus"] = gpus;
                p.Spec.NodeName = node;
            });
        }

        await SourceKit.WaitUntilAsync(() => first.State.Current.Allocations.Count == 12, "first sees every pod");
        await StopAllAsync();

        var second = new SourceKit();
        await StartAsync(second);
        await SourceKit.WaitUntilAsync(() => second.State.Current.Synced, "second synced");

        var before = first.State.Current;
        var after = second.State.Current;
        Assert.Equal(before.Allocations.Values.OrderBy(a => a.Uid, StringComparer.Ordinal), after.Allocations.Values.OrderBy(a => a.Uid, StringComparer.Ordinal));
        Assert.All(before.Nodes.Values, n => Assert.Equal(n.UsedGpus, after.FindNode(n.Name)!.UsedGpus));
        Assert.Equal(before.GroupLocality("grp", "r0", null), after.GroupLocality("grp", "r0", null));
        Assert.Equal(0xFFUL, after.FindNode("gpu-0")!.UsedGpus);
    }

    private static string AssignedGpusFor(int i) => (i / 4) switch
    {
        0 => "0,1,2,3",
        1 => "4,5",
        _ => "6,7",
    };

    /// <summary>Waits for two more node watches (each after bookmarks and a 1-second close): nodes keep answering.</summary>
    private async Task NodeWatchesAnswerAsync()
    {
        var nodeWatches = _server.Requests("WATCH nodes");
        await SourceKit.WaitUntilAsync(() => _server.Requests("WATCH nodes") > nodeWatches + 1, "node watches still answering");
    }

    private async Task StartAsync(SourceKit kit, Kubernetes? through = null, ILogger<KubernetesClusterSource>? log = null)
    {
        var client = through ?? _server.CreateClient();
        var source = new KubernetesClusterSource(client, kit.State, kit.NodeReader, kit.PodReader, kit.WrappedOptions, kit.Time, log ?? SourceKit.Silent<KubernetesClusterSource>())
        {
            InitialBackoff = TimeSpan.FromMilliseconds(20),
            MaxBackoff = TimeSpan.FromMilliseconds(100),
            WatchSilenceMargin = TimeSpan.FromSeconds(1),
        };
        _running.Add((source, client));
        await source.StartAsync(CancellationToken.None);
    }

    private async Task StopAllAsync()
    {
        foreach (var (source, client) in _running)
        {
            await source.StopAsync(CancellationToken.None);
            source.Dispose();
            client.Dispose();
        }

        _running.Clear();
    }
}
