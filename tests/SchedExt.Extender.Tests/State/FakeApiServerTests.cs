using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using SchedExt.Testing;

namespace SchedExt.Extender.Tests.State;

/// <summary>The fake API server must behave like the real one where SchedExt relies on it, or the extender tests prove nothing.</summary>
public sealed class FakeApiServerTests : IAsyncLifetime
{
    private const string Ns = "schedext-system";

    private FakeApiServer _server = null!;
    private Kubernetes _client = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeApiServer.StartAsync();
        _client = _server.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task CreateLease_Twice_SecondIsAlreadyExists()
    {
        var created = await _client.CoordinationV1.CreateNamespacedLeaseAsync(Lease("gpu-1.3", "pod-a"), Ns);

        var error = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoordinationV1.CreateNamespacedLeaseAsync(Lease("gpu-1.3", "pod-b"), Ns));

        Assert.Equal(HttpStatusCode.Conflict, error.Response.StatusCode);
        Assert.Contains("AlreadyExists", error.Response.Content, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(created.Metadata.Uid));
        Assert.Equal("pod-a", _server.GetLease(Ns, "gpu-1.3")!.Spec.HolderIdentity);
        Assert.Equal(2, _server.Requests("POST leases.coordination.k8s.io"));
    }

    [Theory]
    [InlineData("stale resourceVersion", false, true)]
    [InlineData("other uid", true, false)]
    public async Task DeleteLease_FailedPrecondition_ConflictAndKept(string name, bool staleUid, bool staleVersion)
    {
        Assert.NotNull(name);
        var lease = await _client.CoordinationV1.CreateNamespacedLeaseAsync(Lease("gpu-1.0", "pod-a"), Ns);
        var preconditions = new V1Preconditions
        {
            Uid = staleUid ? "not-the-uid" : lease.Metadata.Uid,
            ResourceVersion = staleVersion ? "1" : lease.Metadata.ResourceVersion,
        };

        var error = await Assert.ThrowsAsync<HttpOperationException>(() =>
            _client.CoordinationV1.DeleteNamespacedLeaseAsync("gpu-1.0", Ns, new V1DeleteOptions { Preconditions = preconditions }));

        Assert.Equal(HttpStatusCode.Conflict, error.Response.StatusCode);
        Assert.NotNull(_server.GetLease(Ns, "gpu-1.0"));
    }

    [Fact]
    public async Task DeleteLease_MatchingPreconditions_Deleted()
    {
        var lease = await _client.CoordinationV1.CreateNamespacedLeaseAsync(Lease("gpu-1.0", "pod-a"), Ns);

        await _client.CoordinationV1.DeleteNamespacedLeaseAsync("gpu-1.0", Ns, new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = lease.Metadata.Uid, ResourceVersion = lease.Metadata.ResourceVersion } });

        Assert.Null(_server.GetLease(Ns, "gpu-1.0"));
        var missing = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoordinationV1.ReadNamespacedLeaseAsync("gpu-1.0", Ns));
        Assert.Equal(HttpStatusCode.NotFound, missing.Response.StatusCode);
    }

    [Theory]
    [InlineData("merge patch", V1Patch.PatchType.MergePatch, """{"metadata":{"annotations":{"schedext.io/assigned-gpus":"0,1"}}}""")]
    [InlineData("strategic merge patch", V1Patch.PatchType.StrategicMergePatch, """{"metadata":{"annotations":{"schedext.io/assigned-gpus":"0,1"}}}""")]
    [InlineData("JSON patch", V1Patch.PatchType.JsonPatch, """[{"op":"add","path":"/metadata/annotations/schedext.io~1assigned-gpus","value":"0,1"}]""")]
    public async Task PatchPod_AnnotationPatch_AppliedAndVersionBumped(string name, V1Patch.PatchType type, string patch)
    {
        Assert.NotNull(name);
        var before = _server.PutPod(KubeObjects.Pod("ml", "p", null, null, phase: "Pending"));

        var after = await _client.CoreV1.PatchNamespacedPodAsync(new V1Patch(patch, type), "p", "ml");

        Assert.Equal("0,1", after.Metadata.Annotations["schedext.io/assigned-gpus"]);
        Assert.Equal("0,1", _server.GetPod("ml", "p")!.Metadata.Annotations["schedext.io/assigned-gpus"]);
        Assert.True(long.Parse(after.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture) > long.Parse(before.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(before.Metadata.Uid, after.Metadata.Uid);
    }

    [Theory]
    [InlineData("merge patch naming an old version", V1Patch.PatchType.MergePatch, """{"metadata":{"resourceVersion":"1","annotations":{"a":"b"}}}""", HttpStatusCode.Conflict)]
    [InlineData("JSON patch test that fails", V1Patch.PatchType.JsonPatch, """[{"op":"test","path":"/spec/nodeName","value":"gpu-9"}]""", HttpStatusCode.UnprocessableEntity)]
    [InlineData("JSON patch removing what is absent", V1Patch.PatchType.JsonPatch, """[{"op":"remove","path":"/metadata/labels/none"}]""", HttpStatusCode.UnprocessableEntity)]
    public async Task PatchPod_Rejected_StatusAndUnchanged(string name, V1Patch.PatchType type, string patch, HttpStatusCode expected)
    {
        Assert.NotNull(name);
        var before = _server.PutPod(KubeObjects.Pod("ml", "p", null, null, phase: "Pending"));

        var error = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.PatchNamespacedPodAsync(new V1Patch(patch, type), "p", "ml"));

        Assert.Equal(expected, error.Response.StatusCode);
        Assert.Equal(before.Metadata.ResourceVersion, _server.GetPod("ml", "p")!.Metadata.ResourceVersion);
    }

    [Theory]
    [InlineData("merge patch", V1Patch.PatchType.MergePatch, "application/merge-patch+json", """{"metadata":{"annotations":{"schedext.io/topology":"t"}}}""")]
    [InlineData("strategic merge patch", V1Patch.PatchType.StrategicMergePatch, "application/strategic-merge-patch+json", """{"metadata":{"annotations":{"schedext.io/topology":"t"}}}""")]
    [InlineData("JSON patch", V1Patch.PatchType.JsonPatch, "application/json-patch+json", """[{"op":"add","path":"/metadata/annotations/schedext.io~1topology","value":"t"}]""")]
    public async Task PatchNode_SupportedType_AppliedAndRecordedRaw(string name, V1Patch.PatchType type, string contentType, string patch)
    {
        Assert.NotNull(name);
        var node = KubeObjects.Node("gpu-1", 8);
        node.Metadata.Annotations = new Dictionary<string, string>(StringComparer.Ordinal) { ["team"] = "ml" };
        _server.PutNode(node);

        await _client.CoreV1.PatchNodeAsync(new V1Patch(patch, type), "gpu-1");

        var annotations = _server.GetNode("gpu-1")!.Metadata.Annotations;
        Assert.Equal("t", annotations["schedext.io/topology"]);
        Assert.Equal("ml", annotations["team"]);
        var (sent, body) = Assert.Single(_server.Patches("PATCH nodes"));
        Assert.StartsWith(contentType, sent, StringComparison.Ordinal);
        Assert.Equal(patch, body);
        Assert.Empty(_server.Patches("PATCH pods"));
        Assert.Equal(["PATCH /api/v1/nodes/gpu-1"], _server.RequestLog);
    }

    [Fact]
    public async Task PatchNode_ApplyPatch_UnsupportedMediaTypeAndUnchanged()
    {
        var before = _server.PutNode(KubeObjects.Node("gpu-1", 8));
        // Server-side apply takes YAML, of which JSON is a subset (the client sends a V1Patch body as raw JSON).
        const string Apply = """{"apiVersion":"v1","kind":"Node","metadata":{"name":"gpu-1","annotations":{"schedext.io/topology":"t"}}}""";

        var error = await Assert.ThrowsAsync<HttpOperationException>(() =>
            _client.CoreV1.PatchNodeAsync(new V1Patch(Apply, V1Patch.PatchType.ApplyPatch), "gpu-1", fieldManager: "test"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, error.Response.StatusCode);
        Assert.Equal(before.Metadata.ResourceVersion, _server.GetNode("gpu-1")!.Metadata.ResourceVersion);
        var (contentType, body) = Assert.Single(_server.Patches("PATCH nodes"));
        Assert.StartsWith("application/apply-patch+yaml", contentType, StringComparison.Ordinal);
        Assert.Equal(Apply, body);
    }

    [Fact]
    public async Task PatchNode_InjectedFailure_LoggedButNotReadNorApplied()
    {
        var before = _server.PutNode(KubeObjects.Node("gpu-1", 8));
        _server.FailNext("PATCH nodes", 1, HttpStatusCode.Forbidden);
        var patch = new V1Patch("""{"metadata":{"annotations":{"a":"b"}}}""", V1Patch.PatchType.MergePatch);

        var error = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.PatchNodeAsync(patch, "gpu-1"));
        await _client.CoreV1.PatchNodeAsync(patch, "gpu-1");

        Assert.Equal(HttpStatusCode.Forbidden, error.Response.StatusCode);
        Assert.Equal(["PATCH /api/v1/nodes/gpu-1", "PATCH /api/v1/nodes/gpu-1"], _server.RequestLog);
        Assert.Single(_server.Patches("PATCH nodes"));
        Assert.Equal(2, _server.Requests("PATCH nodes"));
        Assert.NotEqual(before.Metadata.ResourceVersion, _server.GetNode("gpu-1")!.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task CreateLease_FailNextAfterApplying_StoredYetAnsweredWithTheFailure()
    {
        _server.FailNextAfterApplying("POST leases.coordination.k8s.io", status: HttpStatusCode.GatewayTimeout);

        var lost = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoordinationV1.CreateNamespacedLeaseAsync(Lease("a", "x"), Ns));
        var again = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoordinationV1.CreateNamespacedLeaseAsync(Lease("a", "y"), Ns));

        Assert.Equal(HttpStatusCode.GatewayTimeout, lost.Response.StatusCode);
        Assert.Equal("x", _server.GetLease(Ns, "a")!.Spec.HolderIdentity);
        Assert.Equal(HttpStatusCode.Conflict, again.Response.StatusCode); // only the next request's answer is replaced
    }

    [Fact]
    public async Task CreateLease_HangNextAfterApplying_StoredWhileTheCallerWaitsForItsDeadline()
    {
        _server.HangNextAfterApplying("POST leases.coordination.k8s.io");
        using var cts = new CancellationTokenSource();

        var call = _client.CoordinationV1.CreateNamespacedLeaseAsync(Lease("a", "x"), Ns, cancellationToken: cts.Token);
        for (var i = 0; i < 1200 && _server.GetLease(Ns, "a") is null; i++)
        {
            await Task.Delay(25);
        }

        Assert.True(_server.GetLease(Ns, "a") is not null, "the lease was not stored");
        Assert.Equal("x", _server.GetLease(Ns, "a")!.Spec.HolderIdentity);
        Assert.False(call.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        var again = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoordinationV1.CreateNamespacedLeaseAsync(Lease("a", "y"), Ns));
        Assert.Equal(HttpStatusCode.Conflict, again.Response.StatusCode); // only the next request hangs
    }

    [Fact]
    public async Task WriteKubeconfig_ClientBuiltFromIt_ReachesThisServer()
    {
        _server.PutNode(KubeObjects.Node("gpu-1", 8));
        var directory = Directory.CreateTempSubdirectory("schedext-kubeconfig-");
        try
        {
            var path = _server.WriteKubeconfig(directory.FullName);
            using var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(path));

            var node = await client.CoreV1.ReadNodeAsync("gpu-1");

            Assert.Equal("gpu-1", node.Metadata.Name);
            Assert.Equal(1, _server.Requests("GET nodes"));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Bind_UnboundPod_SetsNodeAndCopiesAnnotations_SecondBindConflicts()
    {
        var pod = _server.PutPod(KubeObjects.Pod("ml", "p", null, null, phase: "Pending"));

        await _client.CoreV1.CreateNamespacedPodBindingAsync(Binding("p", "gpu-1", pod.Metadata.Uid, ("schedext.io/assigned-gpus", "2,3")), "p", "ml");
        var again = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.CreateNamespacedPodBindingAsync(Binding("p", "gpu-2", null), "p", "ml"));
        var same = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.CreateNamespacedPodBindingAsync(Binding("p", "gpu-1", null), "p", "ml"));

        var bound = _server.GetPod("ml", "p")!;
        Assert.Equal("gpu-1", bound.Spec.NodeName);
        Assert.Equal("2,3", bound.Metadata.Annotations["schedext.io/assigned-gpus"]);
        Assert.Equal(HttpStatusCode.Conflict, again.Response.StatusCode);
        Assert.Contains("already assigned to node", again.Response.Content, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, same.Response.StatusCode);
        Assert.Equal(1, _server.BindingsCreated);
    }

    [Fact]
    public async Task Bind_WrongUid_Conflict()
    {
        _server.PutPod(KubeObjects.Pod("ml", "p", null, null, phase: "Pending"));

        var error = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.CreateNamespacedPodBindingAsync(Binding("p", "gpu-1", "other-uid"), "p", "ml"));

        Assert.Equal(HttpStatusCode.Conflict, error.Response.StatusCode);
        Assert.Null(_server.GetPod("ml", "p")!.Spec.NodeName);
    }

    [Fact]
    public async Task Bind_ConcurrentToDifferentNodes_ExactlyOneWins()
    {
        _server.PutPod(KubeObjects.Pod("ml", "p", null, null, phase: "Pending"));

        var attempts = Enumerable.Range(0, 64).Select(async i =>
        {
            try
            {
                await _client.CoreV1.CreateNamespacedPodBindingAsync(Binding("p", $"gpu-{i}", null), "p", "ml");
                return true;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
            {
                return false;
            }
        });

        var results = await Task.WhenAll(attempts);

        Assert.Single(results, won => won);
        Assert.Equal(1, _server.BindingsCreated);
    }

    [Fact]
    public async Task Bind_ManyPodsRacedByTwoClients_EachPodBoundOnce()
    {
        const int pods = 300;
        for (var i = 0; i < pods; i++)
        {
            _server.PutPod(KubeObjects.Pod("ml", $"p{i}", null, null, phase: "Pending"));
        }

        using var other = _server.CreateClient();
        var attempts = Enumerable.Range(0, pods).SelectMany(i => new[] { TryBind(_client, i, "gpu-a"), TryBind(other, i, "gpu-b") });

        var wins = await Task.WhenAll(attempts);

        Assert.Equal(pods, wins.Count(w => w));
        Assert.Equal(pods, _server.BindingsCreated);
        Assert.All(_server.Pods(), p => Assert.Contains(p.Spec.NodeName, new[] { "gpu-a", "gpu-b" }));
    }

    private static async Task<bool> TryBind(Kubernetes client, int pod, string node)
    {
        try
        {
            await client.CoreV1.CreateNamespacedPodBindingAsync(Binding($"p{pod}", node, null), $"p{pod}", "ml");
            return true;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            return false;
        }
    }

    [Fact]
    public async Task CreateEvents_BothApiGroups_Stored()
    {
        await _client.CoreV1.CreateNamespacedEventAsync(
            new Corev1Event { Metadata = new V1ObjectMeta { GenerateName = "p." }, InvolvedObject = new V1ObjectReference { Kind = "Pod", Name = "p", NamespaceProperty = "ml" }, Reason = "Scheduled", Message = "bound" },
            "ml");
        await _client.EventsV1.CreateNamespacedEventAsync(
            new Eventsv1Event { Metadata = new V1ObjectMeta { Name = "p.1" }, EventTime = DateTime.UnixEpoch, Reason = "Scheduled", Action = "Binding", ReportingController = "schedext", ReportingInstance = "x", Note = "bound" },
            "ml");

        Assert.Equal("bound", Assert.Single(_server.CoreEvents()).Message);
        Assert.StartsWith("p.", _server.CoreEvents()[0].Metadata.Name, StringComparison.Ordinal);
        Assert.Equal("bound", Assert.Single(_server.Events()).Note);
    }

    [Fact]
    public async Task Watch_FromExpiredVersion_ErrorEvent410()
    {
        _server.PutNode(KubeObjects.Node("gpu-1", 8));
        var old = _server.ResourceVersion;
        _server.PutNode(KubeObjects.Node("gpu-2", 8));
        _server.ExpireWatchHistory();
        Exception? error = null;

        await foreach (var unexpected in _client.CoreV1.WatchListNodeAsync(resourceVersion: (old - 1).ToString(System.Globalization.CultureInfo.InvariantCulture), timeoutSeconds: 5, onError: e => error = e))
        {
            Assert.Fail($"unexpected event {unexpected.Item1}");
        }

        var status = Assert.IsType<KubernetesException>(error).Status;
        Assert.Equal((410, "Expired"), (status.Code, status.Reason));
    }

    [Fact]
    public async Task Watch_BeyondHistoryLimit_ErrorEvent410_WithinLimit_Replays()
    {
        _server.HistoryLimit = 3;
        var start = _server.ResourceVersion;
        for (var i = 0; i < 6; i++)
        {
            _server.PutNode(KubeObjects.Node($"gpu-{i}", 8));
        }

        Exception? error = null;
        await foreach (var unexpected in _client.CoreV1.WatchListNodeAsync(resourceVersion: start.ToString(System.Globalization.CultureInfo.InvariantCulture), timeoutSeconds: 1, onError: e => error = e))
        {
            Assert.Fail($"unexpected event {unexpected.Item1}");
        }

        var replayed = new List<string>();
        await foreach (var (_, node) in _client.CoreV1.WatchListNodeAsync(resourceVersion: (_server.ResourceVersion - 3).ToString(System.Globalization.CultureInfo.InvariantCulture), timeoutSeconds: 1))
        {
            replayed.Add(node.Metadata.Name);
        }

        Assert.Equal(410, Assert.IsType<KubernetesException>(error).Status.Code);
        Assert.Equal(["gpu-3", "gpu-4", "gpu-5"], replayed);
    }

    [Fact]
    public async Task CloseWatches_OpenWatch_EndsAfterEarlierChangesWithoutLaterOnes()
    {
        var list = await _client.CoreV1.ListNodeAsync();
        var seen = new List<string>();
        var watching = Task.Run(async () =>
        {
            await foreach (var (_, node) in _client.CoreV1.WatchListNodeAsync(resourceVersion: list.Metadata.ResourceVersion, timeoutSeconds: 600))
            {
                seen.Add(node.Metadata.Name);
            }
        });
        await SourceKit.WaitUntilAsync(() => _server.OpenWatches("nodes") == 1, "watch open");

        _server.PutNode(KubeObjects.Node("gpu-1", 8));
        Assert.Equal(1, _server.CloseWatches());
        _server.PutNode(KubeObjects.Node("gpu-2", 8));

        // A hang guard, not a timing assertion: without the close the stream would run for its 600 seconds.
        await watching.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(["gpu-1"], seen);
        Assert.Equal(0, _server.OpenWatches("nodes"));
    }

    [Fact]
    public async Task Watch_FieldSelector_PodLeavingSelectionIsDeleted()
    {
        _server.PutPod(KubeObjects.Pod("ml", "p", "gpu-1", "0"));
        var list = await _client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: "spec.nodeName!=,status.phase!=Succeeded");
        var events = new List<(WatchEventType, string)>();
        using var cts = new CancellationTokenSource();
        var watching = Task.Run(async () =>
        {
            await foreach (var (type, pod) in _client.CoreV1.WatchListPodForAllNamespacesAsync(fieldSelector: "spec.nodeName!=,status.phase!=Succeeded", resourceVersion: list.Metadata.ResourceVersion, timeoutSeconds: 10, cancellationToken: cts.Token))
            {
                events.Add((type, pod.Status.Phase));
                if (events.Count == 2)
                {
                    return;
                }
            }
        });

        _server.ModifyPod("ml", "p", p => p.Status.Phase = "Running");
        _server.PutPod(KubeObjects.Pod("ml", "unbound", null, null, phase: "Pending"));
        _server.ModifyPod("ml", "p", p => p.Status.Phase = "Succeeded");
        await watching;

        Assert.Single(list.Items);
        Assert.Equal([(WatchEventType.Modified, "Running"), (WatchEventType.Deleted, "Succeeded")], events);
    }

    [Theory]
    [InlineData("equality", "app.kubernetes.io/managed-by=schedext", "a,b")]
    [InlineData("double equals and inequality", "app.kubernetes.io/managed-by==schedext,tier!=gold", "b")]
    [InlineData("exists", "tier", "a,c")]
    [InlineData("does not exist", "!tier", "b")]
    [InlineData("in set", "tier in (gold, silver)", "a,c")]
    [InlineData("not in set", "tier notin (gold)", "b,c")]
    public async Task ListLeases_LabelSelector_Filters(string name, string selector, string expected)
    {
        Assert.NotNull(name);
        await CreateLabelled("a", ("app.kubernetes.io/managed-by", "schedext"), ("tier", "gold"));
        await CreateLabelled("b", ("app.kubernetes.io/managed-by", "schedext"));
        await CreateLabelled("c", ("tier", "silver"));

        var list = await _client.CoordinationV1.ListNamespacedLeaseAsync(Ns, labelSelector: selector);

        Assert.Equal(expected, string.Join(',', list.Items.Select(l => l.Metadata.Name)));
    }

    [Fact]
    public async Task Dispose_OpenWatch_EndsTheStream()
    {
        var server = await FakeApiServer.StartAsync();
        using var client = server.CreateClient();
        var opened = new TaskCompletionSource();
        server.PutNode(KubeObjects.Node("gpu-1", 8));
        var watching = Task.Run(async () =>
        {
            await foreach (var unused in client.CoreV1.WatchListNodeAsync(resourceVersion: "0"))
            {
                opened.TrySetResult();
            }
        });
        await opened.Task;

        await server.DisposeAsync();

        // The stream ends (or the connection drops); either way the watch does not hang for its 30-minute default.
        await Task.WhenAny(watching, Task.Delay(TimeSpan.FromSeconds(20)));
        Assert.True(watching.IsCompleted);
    }

    [Fact]
    public async Task ListPods_Limit_EveryPageFromTheFirstPagesSnapshot()
    {
        for (var i = 0; i < 5; i++)
        {
            _server.PutPod(KubeObjects.Pod("ml", $"p{i}", "gpu-1", $"{i}"));
        }

        var first = await _client.CoreV1.ListPodForAllNamespacesAsync(limit: 2);

        // Changes after the first page show in none of the later ones: they are the watch's, from the list's version.
        _server.DeletePod("ml", "p3");
        _server.PutPod(KubeObjects.Pod("ml", "p2a", "gpu-1", "7"));
        _server.ModifyPod("ml", "p4", p => p.Status.Phase = "Succeeded");
        var second = await _client.CoreV1.ListPodForAllNamespacesAsync(continueParameter: first.Metadata.ContinueProperty, limit: 2);
        var third = await _client.CoreV1.ListPodForAllNamespacesAsync(continueParameter: second.Metadata.ContinueProperty, limit: 2);

        Assert.Equal(["p0", "p1", "p2", "p3", "p4"], first.Items.Concat(second.Items).Concat(third.Items).Select(p => p.Metadata.Name));
        Assert.Equal("Running", third.Items[0].Status.Phase);
        Assert.Equal([first.Metadata.ResourceVersion, first.Metadata.ResourceVersion], [second.Metadata.ResourceVersion, third.Metadata.ResourceVersion]);
        Assert.Equal((2, 2, 1), (first.Items.Count, second.Items.Count, third.Items.Count));
        Assert.NotNull(second.Metadata.ContinueProperty);
        Assert.Null(third.Metadata.ContinueProperty);
    }

    [Theory]
    [InlineData("history compacted past the first page", true)]
    [InlineData("a token this server never issued", false)]
    public async Task ListNodes_ContinueWithoutItsSnapshot_GoneExpired(string name, bool compacted)
    {
        Assert.NotNull(name);
        _server.PutNode(KubeObjects.Node("gpu-1", 8));
        _server.PutNode(KubeObjects.Node("gpu-2", 8));
        var first = await _client.CoreV1.ListNodeAsync(limit: 1);
        var token = first.Metadata.ContinueProperty;
        if (compacted)
        {
            _server.PutNode(KubeObjects.Node("gpu-3", 8));
            _server.ExpireWatchHistory();
        }
        else
        {
            token = "bm90LWEtdG9rZW4";
        }

        var error = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.ListNodeAsync(continueParameter: token, limit: 1));

        Assert.Equal(HttpStatusCode.Gone, error.Response.StatusCode);
        Assert.Contains("\"reason\":\"Expired\"", error.Response.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_UnknownFieldSelector_BadRequest()
    {
        var error = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.ListNodeAsync(fieldSelector: "spec.nodeName=x"));

        Assert.Equal(HttpStatusCode.BadRequest, error.Response.StatusCode);
    }

    private Task<V1Lease> CreateLabelled(string name, params (string Key, string Value)[] labels)
    {
        var lease = Lease(name, "x");
        lease.Metadata.Labels = labels.ToDictionary(l => l.Key, l => l.Value);
        return _client.CoordinationV1.CreateNamespacedLeaseAsync(lease, Ns);
    }

    private static V1Lease Lease(string name, string holder) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Ns },
        Spec = new V1LeaseSpec { HolderIdentity = holder },
    };

    private static V1Binding Binding(string pod, string node, string? uid, params (string Key, string Value)[] annotations) => new()
    {
        Metadata = new V1ObjectMeta { Name = pod, NamespaceProperty = "ml", Uid = uid, Annotations = annotations.Length == 0 ? null : annotations.ToDictionary(a => a.Key, a => a.Value) },
        Target = new V1ObjectReference { Kind = "Node", Name = node },
    };
}
