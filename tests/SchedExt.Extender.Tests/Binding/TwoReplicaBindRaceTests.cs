using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using SchedExt.Extender.Binding;
using SchedExt.Extender.State;
using SchedExt.Testing;
using SchedExt.Topology.Annotation;
using SchedExt.Topology.Requests;
using SchedExt.Topology.Shapes;

namespace SchedExt.Extender.Tests.Binding;

/// <summary>
/// One pod bound through two replicas at once (a leader change: the old leader's bind runs on up to 30 s after its
/// scheduler is gone), with the steps of the two ordered exactly through <see cref="BindHooks"/>. The promise: the pod
/// ends with one assignment, on the node it is bound to, and every GPU of it claimed by the pod.
/// </summary>
public sealed class TwoReplicaBindRaceTests : IAsyncLifetime
{
    private FakeApiServer _api = null!;

    public async Task InitializeAsync()
    {
        _api = await FakeApiServer.StartAsync();
        foreach (var name in new[] { "x", "y" })
        {
            _api.PutNode(KubeObjects.Node(name, 8, TopologyAnnotation.Serialize(ReferenceTopologies.Dgx1V100), new Dictionary<string, string> { [SchedExtKeys.Machine] = "bare-metal" }));
        }
    }

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task LosingReplica_LeavesNoAssignmentOnThePodTheOtherBound()
    {
        // Node y: pod q holds GPUs 0-3. Pod p (4 GPUs) is bound by replica A to x and by replica B to y. A has claimed
        // its GPUs on x; B's whole bind runs before A creates its Binding. Before: A wrote its assignment for x onto the
        // pod B had bound to y (0-3, q's GPUs), and B's janitor then freed p's real claims on y.
        _api.PutPod(RunningGpuPod("ml", "q", "y", "0,1,2,3", 4));
        var p = _api.PutPod(ApiBackedExtender.PendingGpuPod("ml", "p", 4));
        await using var replicas = await Replicas.StartAsync(_api);
        var (a, b, clientA, clientB) = (replicas.A, replicas.B, replicas.ClientA, replicas.ClientB);

        string? bBody = null;
        a.Hooks.BeforeBind = async () => bBody = (await ApiBackedExtender.PostBindAsync(clientB, p, "y")).Body;
        var (_, aBody) = await ApiBackedExtender.PostBindAsync(clientA, p, "x");

        Assert.Equal("""{"Error":""}""", bBody);
        Assert.Contains("failed", aBody, StringComparison.Ordinal);
        var bound = _api.GetPod("ml", "p")!;
        Assert.Equal("y", bound.Spec.NodeName);
        var assigned = Mask(bound.Metadata.Annotations[SchedExtKeys.AssignedGpus]);
        Assert.True((assigned & Mask("0,1,2,3")) == 0, $"p on y is assigned {AssignedGpus.Format(assigned)}, which q holds");
        Assert.Equal(0UL, ClaimedBy(p.Metadata.Uid, "x"));

        // B's janitor, once it sees p bound, keeps every claim of p's assignment.
        for (var i = 0; i < 400 && !b.State.Current.Allocations.ContainsKey(p.Metadata.Uid); i++)
        {
            await Task.Delay(25);
        }

        var janitor = b.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<ClaimJanitor>().Single();
        await janitor.SweepAsync(CancellationToken.None);
        var claimed = ClaimedBy(p.Metadata.Uid, "y");
        Assert.True(claimed == assigned, $"p on y is assigned {AssignedGpus.Format(assigned)} but claims {AssignedGpus.Format(claimed)} after the sweep");
    }

    [Fact]
    public async Task SamePodOnTwoReplicas_EveryAssignedGpuStaysClaimed()
    {
        // Pod p (2 GPUs) is bound on y through A and B at once. B's view is behind: it still sees a pod r on all of y
        // but one of A's GPUs and one other, so B's only choice shares a GPU with A's. Before: B took over A's claim of
        // that GPU (same pod UID), waited at its Binding until A's was made, lost, and deleted the claim as its undo,
        // leaving a GPU of the bound pod unclaimed.
        var p = _api.PutPod(ApiBackedExtender.PendingGpuPod("ml", "p", 2));
        await using var replicas = await Replicas.StartAsync(_api);
        var (a, b, clientA, clientB) = (replicas.A, replicas.B, replicas.ClientA, replicas.ClientB);

        var aWon = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var bAtBinding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<(int Status, string Body)>? bBind = null;
        ulong chosenByA = 0;
        a.Hooks.BeforeBind = async () =>
        {
            chosenByA = ClaimedBy(p.Metadata.Uid, "y");
            var shared = chosenByA & (~chosenByA + 1);
            var other = ~chosenByA & 0xFF & (~(~chosenByA & 0xFF) + 1);
            b.State.UpsertPod(new PodAllocation("uid-r", "ml", "r", "y", 0xFFUL & ~(shared | other), null));
            b.Hooks.BeforeBind = async () =>
            {
                bAtBinding.SetResult();
                await aWon.Task;
            };
            bBind = ApiBackedExtender.PostBindAsync(clientB, p, "y");

            // B either reaches its Binding (then waits there until A's is made) or gives up before it.
            await Task.WhenAny(bAtBinding.Task, bBind);
        };
        a.Hooks.AfterBind = () =>
        {
            aWon.TrySetResult();
            return Task.CompletedTask;
        };

        var (_, aBody) = await ApiBackedExtender.PostBindAsync(clientA, p, "y");
        var (_, bBody) = await bBind!;

        Assert.Equal("""{"Error":""}""", aBody);
        Assert.NotEqual("""{"Error":""}""", bBody);
        var bound = _api.GetPod("ml", "p")!;
        Assert.Equal("y", bound.Spec.NodeName);
        var assigned = Mask(bound.Metadata.Annotations[SchedExtKeys.AssignedGpus]);
        Assert.Equal(chosenByA, assigned);
        var claimed = ClaimedBy(p.Metadata.Uid, "y");
        Assert.True(claimed == assigned, $"p is bound on y with GPUs {AssignedGpus.Format(assigned)} but claims only {AssignedGpus.Format(claimed)}; B answered {bBody}");
    }

    [Theory]
    [InlineData("succeeded")]
    [InlineData("recreated")]
    [InlineData("bound-elsewhere")]
    public async Task ClaimsOfAFinishedRecreatedOrMovedPod_AreTakenOver(string how)
    {
        // q held all of y with claims; it then finished, was deleted and recreated (new UID, pending), or is bound on x.
        var q = RunningGpuPod("ml", "q", "y", "0,1,2,3,4,5,6,7", 8);
        _api.PutPod(q);
        for (var g = 0; g < 8; g++)
        {
            _api.PutLease(ApiBackedExtender.Claim("y", g, "ml", "q", q.Metadata.Uid));
        }

        var p = _api.PutPod(ApiBackedExtender.PendingGpuPod("ml", "p", 8));
        await using var a = new ApiBackedExtender(_api);
        using var client = a.CreateClient();
        await a.WaitSyncedAsync(2);
        switch (how)
        {
            case "succeeded":
                _api.ModifyPod("ml", "q", x => x.Status.Phase = "Succeeded");
                break;
            case "recreated":
                _api.DeletePod("ml", "q");
                var again = ApiBackedExtender.PendingGpuPod("ml", "q", 8);
                again.Metadata.Uid = "uid-q2";
                _api.PutPod(again);
                break;
            default:
                _api.ModifyPod("ml", "q", x => x.Spec.NodeName = "x");
                break;
        }

        for (var i = 0; i < 400 && a.State.Current.Allocations.TryGetValue(q.Metadata.Uid, out var held) && held.Node == "y"; i++)
        {
            await Task.Delay(25);
        }

        var (_, body) = await ApiBackedExtender.PostBindAsync(client, p, "y");
        Assert.Equal("""{"Error":""}""", body);
        Assert.Equal(0xFFUL, ClaimedBy(p.Metadata.Uid, "y"));
    }

    /// <summary>Two synced replicas on one API server, with a client each.</summary>
    private sealed class Replicas : IAsyncDisposable
    {
        private Replicas(FakeApiServer api)
        {
            A = new ApiBackedExtender(api);
            B = new ApiBackedExtender(api);
            ClientA = A.CreateClient();
            ClientB = B.CreateClient();
        }

        public ApiBackedExtender A { get; }

        public ApiBackedExtender B { get; }

        public HttpClient ClientA { get; }

        public HttpClient ClientB { get; }

        public static async Task<Replicas> StartAsync(FakeApiServer api)
        {
            var replicas = new Replicas(api);
            await replicas.A.WaitSyncedAsync(2);
            await replicas.B.WaitSyncedAsync(2);
            return replicas;
        }

        public async ValueTask DisposeAsync()
        {
            ClientA.Dispose();
            ClientB.Dispose();
            await A.DisposeAsync();
            await B.DisposeAsync();
        }
    }

    private static V1Pod RunningGpuPod(string ns, string name, string node, string assigned, int gpus)
    {
        var pod = KubeObjects.Pod(ns, name, node, assigned, "Running");
        pod.Spec.Containers[0].Resources = new V1ResourceRequirements
        {
            Limits = new Dictionary<string, ResourceQuantity> { [SchedExtKeys.GpuResource] = new(gpus.ToString(System.Globalization.CultureInfo.InvariantCulture)) },
        };
        return pod;
    }

    private static ulong Mask(string text) => AssignedGpus.TryParse(text, out var m) ? m : throw new InvalidOperationException(text);

    private ulong ClaimedBy(string uid, string node) =>
        _api.Leases().Where(l => l.Spec.HolderIdentity == uid && l.Metadata.Name.StartsWith($"gpu.{node}.", StringComparison.Ordinal))
            .Aggregate(0UL, (m, l) => m | (1UL << int.Parse(l.Metadata.Name[$"gpu.{node}.".Length..], System.Globalization.CultureInfo.InvariantCulture)));
}
