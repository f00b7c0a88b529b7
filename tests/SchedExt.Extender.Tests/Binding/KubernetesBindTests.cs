using k8s.Models;
using SchedExt.Testing;
using SchedExt.Topology.Requests;

namespace SchedExt.Extender.Tests.Binding;

/// <summary>Bind against an API server: what is written, in which order, and that a failure leaves nothing behind.</summary>
public sealed class KubernetesBindTests : IAsyncLifetime
{
    private DgxReplica _dgx = null!;

    private FakeApiServer Api => _dgx.Api;

    public async Task InitializeAsync()
    {
        var pod = KubeObjects.Pod("ml", "train", null, null, "Pending", uid: "uid-train");
        pod.Spec.Containers[0].Resources = new V1ResourceRequirements { Limits = new Dictionary<string, ResourceQuantity> { [SchedExtKeys.GpuResource] = new("4") } };
        pod.Metadata.Annotations[SchedExtKeys.Interconnect] = "nvlink";
        pod.Metadata.Annotations[SchedExtKeys.Rdma] = "required";
        _dgx = await DgxReplica.StartAsync(pod);
    }

    public async Task DisposeAsync() => await _dgx.DisposeAsync();

    private async Task<string> BindAsync()
    {
        using var body = new StringContent("""{"PodName":"train","PodNamespace":"ml","PodUID":"uid-train","Node":"dgx"}""", System.Text.Encoding.UTF8, "application/json");
        using var response = await _dgx.Client.PostAsync("/bind", body);
        return await response.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task Bind_Success_AnnotatesClaimsBindsAndRecordsEvent()
    {
        Assert.Equal("""{"Error":""}""", await BindAsync());
        var pod = Api.GetPod("ml", "train")!;
        Assert.Equal("dgx", pod.Spec.NodeName);
        var a = pod.Metadata.Annotations;

        // DGX-1V: the lower NVLink quad, GPUs 0-3 on NUMA 0, with PIX NICs mlx5_0 (GPUs 0,1) and mlx5_1 (GPUs 2,3).
        Assert.Equal("0,1,2,3", a[SchedExtKeys.AssignedGpus]);
        Assert.Equal("0", a[SchedExtKeys.AssignedNuma]);
        Assert.Equal("mlx5_0,mlx5_1", a[SchedExtKeys.AssignedNics]);
        Assert.InRange(int.Parse(a[SchedExtKeys.PlacementScore], System.Globalization.CultureInfo.InvariantCulture), 0, 10);
        Assert.Equal(["gpu.dgx.0", "gpu.dgx.1", "gpu.dgx.2", "gpu.dgx.3"], Api.Leases().Select(l => l.Metadata.Name).Order(StringComparer.Ordinal));
        Assert.All(Api.Leases(), l => Assert.Equal("uid-train", l.Spec.HolderIdentity));
        var evt = Assert.Single(Api.CoreEvents());
        Assert.Equal(("GpusAssigned", "uid-train"), (evt.Reason, evt.InvolvedObject.Uid));
        Assert.Contains("Assigned GPUs 0,1,2,3 on dgx", evt.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bind_Retried_IsIdempotent()
    {
        Assert.Equal("""{"Error":""}""", await BindAsync());
        Assert.Equal("""{"Error":""}""", await BindAsync());
        Assert.Equal(1, Api.BindingsCreated);
        Assert.Equal(4, Api.Leases().Count);
    }

    [Fact]
    public async Task Bind_BindingRefused_UndoesAnnotationsAndClaims()
    {
        Api.FailNext("POST pods/binding", 1, System.Net.HttpStatusCode.Conflict);
        var answer = await BindAsync();
        Assert.Contains("binding pod ml/train to dgx failed", answer, StringComparison.Ordinal);
        var pod = Api.GetPod("ml", "train")!;
        Assert.Null(pod.Spec.NodeName);
        Assert.False(pod.Metadata.Annotations.ContainsKey(SchedExtKeys.AssignedGpus));
        Assert.Empty(Api.Leases());

        // The scheduler's retry then succeeds from a clean slate.
        Assert.Equal("""{"Error":""}""", await BindAsync());
    }

    [Fact]
    public async Task Bind_BindingFailsAndPodUnreadable_KeepsClaimsAndRetryReusesThem()
    {
        // The Binding's fate is unknown (its reply failed and the pod cannot be read back): it may have been created, so
        // the claims must stay; releasing them could hand a running pod's GPUs to another pod.
        Api.FailNext("POST pods/binding", 1, System.Net.HttpStatusCode.InternalServerError);
        Api.FailNext("GET pods", 1, System.Net.HttpStatusCode.InternalServerError, afterPassing: 1);
        var answer = await BindAsync();

        Assert.Contains("binding pod ml/train to dgx failed", answer, StringComparison.Ordinal);
        Assert.Equal(["gpu.dgx.0", "gpu.dgx.1", "gpu.dgx.2", "gpu.dgx.3"], Api.Leases().Select(l => l.Metadata.Name).Order(StringComparer.Ordinal));
        Assert.All(Api.Leases(), l => Assert.Equal("uid-train", l.Spec.HolderIdentity));

        // It was not bound after all; the scheduler's retry takes the same GPUs and their claims.
        Assert.Equal("""{"Error":""}""", await BindAsync());
        Assert.Equal("0,1,2,3", Api.GetPod("ml", "train")!.Metadata.Annotations[SchedExtKeys.AssignedGpus]);
        Assert.Equal(4, Api.Leases().Count);
    }

    [Fact]
    public async Task Bind_BindingStoredButReplyLost_SucceedsAndKeepsClaimsAndAssignment()
    {
        // The API server stored the Binding, then the reply failed (a 504 after the write). The pod read back is bound
        // here with this attempt's assignment, so the bind did succeed: undoing it would free a running pod's GPUs.
        Api.FailNextAfterApplying("POST pods/binding", status: System.Net.HttpStatusCode.GatewayTimeout);

        Assert.Equal("""{"Error":""}""", await BindAsync());
        Assert.Equal(2, Api.Requests("GET pods")); // the bind's first read and the read-back after the failed reply
        var pod = Api.GetPod("ml", "train")!;
        Assert.Equal("dgx", pod.Spec.NodeName);
        Assert.Equal("0,1,2,3", pod.Metadata.Annotations[SchedExtKeys.AssignedGpus]);
        Assert.Equal(["gpu.dgx.0", "gpu.dgx.1", "gpu.dgx.2", "gpu.dgx.3"], Api.Leases().Select(l => l.Metadata.Name).Order(StringComparer.Ordinal));
        Assert.All(Api.Leases(), l => Assert.Equal("uid-train", l.Spec.HolderIdentity));
        Assert.Equal(1, Api.BindingsCreated);

        // Reported as the completed bind it is: the pod's event says what it got.
        var evt = Assert.Single(Api.CoreEvents());
        Assert.Equal(("GpusAssigned", "uid-train"), (evt.Reason, evt.InvolvedObject.Uid));
    }

    [Fact]
    public async Task Bind_PodDeletedDuringBind_ReleasesClaims()
    {
        // Unlike an unanswered read, a 404 is a definite answer: the pod is gone and its claims guard nothing.
        Api.FailNext("POST pods/binding", 1, System.Net.HttpStatusCode.NotFound);
        Api.FailNext("GET pods", 1, System.Net.HttpStatusCode.NotFound, afterPassing: 1);

        Assert.Contains("binding pod ml/train to dgx failed", await BindAsync(), StringComparison.Ordinal);
        Assert.Empty(Api.Leases());
    }

    [Fact]
    public async Task Bind_ClaimHeldByGonePod_IsTakenOver()
    {
        // A crashed bind elsewhere left GPU 0 claimed for a pod that no longer exists.
        Api.PutLease(ApiBackedExtender.Claim("dgx", 0, "ml", "ghost", "uid-ghost"));
        Assert.Equal("""{"Error":""}""", await BindAsync());
        Assert.Equal("uid-train", Api.GetLease("schedext-system", "gpu.dgx.0")!.Spec.HolderIdentity);
        Assert.Equal("0,1,2,3", Api.GetPod("ml", "train")!.Metadata.Annotations[SchedExtKeys.AssignedGpus]);
    }

    [Fact]
    public async Task Bind_ClaimHeldByLivePendingPod_IsRespected()
    {
        // Another replica is mid-bind for a live pod on GPU 0: this bind must choose around it, not take it.
        var other = KubeObjects.Pod("ml", "other", null, null, "Pending", uid: "uid-other");
        Api.PutPod(other);
        Api.PutLease(ApiBackedExtender.Claim("dgx", 0, "ml", "other", "uid-other"));
        Assert.Equal("""{"Error":""}""", await BindAsync());
        Assert.Equal("uid-other", Api.GetLease("schedext-system", "gpu.dgx.0")!.Spec.HolderIdentity);
        Assert.Equal("4,5,6,7", Api.GetPod("ml", "train")!.Metadata.Annotations[SchedExtKeys.AssignedGpus]);
    }
}
