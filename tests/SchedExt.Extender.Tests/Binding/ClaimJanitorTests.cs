using System.Globalization;
using System.Text.Json.Nodes;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using SchedExt.Extender.Binding;
using SchedExt.Testing;
using SchedExt.Topology.Requests;

namespace SchedExt.Extender.Tests.Binding;

/// <summary>
/// What a bind that never completed leaves behind, on a fake clock shared by the replica and the API server (which
/// stamps each claim's creation with it, to the second): the janitor frees the claims of a pod never bound once they
/// are older than the binder's abandon limit (2 minutes), keeps those of a bound pod, and the bind's reservation
/// stops counting after its time-to-live (2 minutes, once the pod watch has spoken since).
/// </summary>
public sealed class ClaimJanitorTests : IAsyncLifetime
{
    private static readonly string[] LowerQuad = ["gpu.dgx.0", "gpu.dgx.1", "gpu.dgx.2", "gpu.dgx.3"];

    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", CultureInfo.InvariantCulture));
    private readonly V1Pod _train = ApiBackedExtender.PendingGpuPod("ml", "train", 4);
    private DgxReplica _dgx = null!;

    private FakeApiServer Api => _dgx.Api;

    public async Task InitializeAsync()
    {
        _train.Metadata.Annotations[SchedExtKeys.Interconnect] = "nvlink";
        _dgx = await DgxReplica.StartAsync(_train, _time);
    }

    public async Task DisposeAsync() => await _dgx.DisposeAsync();

    private ClaimJanitor Janitor => _dgx.Replica.Services.GetServices<IHostedService>().OfType<ClaimJanitor>().Single();

    private IEnumerable<string> ClaimNames => Api.Leases().Select(l => l.Metadata.Name).Order(StringComparer.Ordinal);

    /// <summary>
    /// A bind whose Binding reply is lost and whose pod cannot be read back: its fate is unknown, so it keeps its claims
    /// (GPUs 0-3, made now) and its reservation. The pod was in fact never bound.
    /// </summary>
    private async Task BindOfUnknownFateAsync()
    {
        Api.FailNext("POST pods/binding", 1, System.Net.HttpStatusCode.InternalServerError);
        Api.FailNext("GET pods", 1, System.Net.HttpStatusCode.InternalServerError, afterPassing: 1);
        var (_, body) = await ApiBackedExtender.PostBindAsync(_dgx.Client, _train, "dgx");
        Assert.Contains("binding pod ml/train to dgx failed", body, StringComparison.Ordinal);
        Assert.Equal(LowerQuad, ClaimNames);
        Assert.Null(Api.GetPod("ml", "train")!.Spec.NodeName);
    }

    [Fact]
    public async Task Sweep_ClaimsOfPodNeverBound_KeptUntilAbandonedThenReleased()
    {
        await BindOfUnknownFateAsync();

        // 1:59 old: the bind may still be under way on some replica.
        _time.Advance(TimeSpan.FromSeconds(119));
        Assert.Equal(0, await Janitor.SweepAsync(CancellationToken.None));
        Assert.Equal(LowerQuad, ClaimNames);

        // 2:01 old: abandoned. (The janitor's own timer may sweep alongside; either way none is left.)
        _time.Advance(TimeSpan.FromSeconds(2));
        await Janitor.SweepAsync(CancellationToken.None);
        Assert.Empty(ClaimNames);
    }

    [Fact]
    public async Task Sweep_ClaimsOfBoundPod_KeptLongPastTheLimitButNotOneItsAssignmentLacks()
    {
        var (_, body) = await ApiBackedExtender.PostBindAsync(_dgx.Client, _train, "dgx");
        Assert.Equal("""{"Error":""}""", body);
        Assert.Equal("0,1,2,3", Api.GetPod("ml", "train")!.Metadata.Annotations[SchedExtKeys.AssignedGpus]);

        // A claim of the same pod on GPU 7, which its assignment does not name (an earlier attempt's leftover).
        Api.PutLease(ApiBackedExtender.Claim("dgx", 7, "ml", "train", _train.Metadata.Uid));

        // (The janitor's own timer may sweep alongside, so only the outcome is asserted, not who released it.)
        _time.Advance(TimeSpan.FromMinutes(10));
        await Janitor.SweepAsync(CancellationToken.None);
        Assert.Equal(LowerQuad, ClaimNames);
        Assert.Equal(0, await Janitor.SweepAsync(CancellationToken.None));
        Assert.Equal(LowerQuad, ClaimNames);
    }

    [Fact]
    public async Task Janitor_OnItsOwnTimer_ReleasesAbandonedClaims()
    {
        await BindOfUnknownFateAsync();

        // The hosted janitor sweeps every minute of the replica's clock; past 2:00 the claims are over the limit. The
        // clock moves a minute at a time until then: the janitor's timer may not exist yet when the test starts moving
        // it (hosted services start in the background), and one jump made before would never fire it.
        for (var i = 0; i < 400 && Api.Leases().Count > 0; i++)
        {
            _time.Advance(TimeSpan.FromMinutes(1));
            await Task.Delay(25);
        }

        Assert.Empty(ClaimNames);
    }

    [Fact]
    public async Task Reservation_OfBindOfUnknownFate_StopsCountingAfterItsTimeToLive()
    {
        await BindOfUnknownFateAsync();

        // Another pod wanting the whole node: GPUs 0-3 stay promised to train's bind for its time-to-live. The pod watch
        // has spoken since the bind could have finished (as a healthy watch's bookmarks do; until it has, a reservation
        // outlives its time-to-live, ReservationsTests): set here, not left to when the fake server's bookmark arrives.
        _time.Advance(TimeSpan.FromSeconds(119));
        _dgx.Replica.State.Touch(SchedExt.Extender.State.ContactStream.Pods);
        var before = await FilterWholeNodeAsync();
        Assert.Empty(before["NodeNames"]!.AsArray());
        Assert.Equal("needs 8 free GPUs; 4 free", before["FailedNodes"]!["dgx"]!.GetValue<string>());

        _time.Advance(TimeSpan.FromSeconds(2));
        var after = await FilterWholeNodeAsync();
        Assert.Equal("dgx", Assert.Single(after["NodeNames"]!.AsArray())!.GetValue<string>());
    }

    private async Task<JsonNode> FilterWholeNodeAsync()
    {
        const string Json = """{"Pod":{"metadata":{"name":"whole","namespace":"ml","uid":"uid-whole"},"spec":{"containers":[{"resources":{"limits":{"nvidia.com/gpu":"8"}}}]}},"NodeNames":["dgx"]}""";
        using var content = new StringContent(Json, System.Text.Encoding.UTF8, "application/json");
        using var response = await _dgx.Client.PostAsync("/filter", content);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }
}
