using System.Globalization;
using Microsoft.Extensions.Time.Testing;
using SchedExt.Testing;

namespace SchedExt.Extender.Tests.Binding;

/// <summary>An API server that accepts the janitor's claim list and never answers: the client's timeout ends that sweep and the janitor carries on.</summary>
public sealed class ClaimJanitorStallTests
{
    private const string ListClaims = "LIST leases.coordination.k8s.io";

    [Fact]
    public async Task Janitor_ClaimListTimesOut_NextSweepStillReleasesAbandonedClaims()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", CultureInfo.InvariantCulture));
        var stuck = ApiBackedExtender.PendingGpuPod("ml", "stuck", 1);
        // 5 s: the stalled request must end in the client's timeout, and the others (the first requests of a cold
        // process, on a machine busy with other test assemblies) must not; 1 s was too short for them.
        await using var dgx = await DgxReplica.StartAsync(stuck, time, clientTimeout: TimeSpan.FromSeconds(5));

        // A claim made now for a pod that stays unbound: abandoned once it is more than 2 minutes old.
        dgx.Api.PutLease(ApiBackedExtender.Claim("dgx", 0, "ml", "stuck", stuck.Metadata.Uid));
        dgx.Api.HangNext(ListClaims);

        // The first sweep's list stalls until the client gives up (an OperationCanceledException while the host is not
        // stopping); the clock moves on, so a later sweep finds the claim abandoned. The clock moves a minute at a time:
        // the janitor's timer may not exist yet when the test starts (hosted services start in the background).
        await Until(time, () => dgx.Api.Requests(ListClaims) >= 1);
        await Until(time, () => dgx.Api.Leases().Count == 0);

        Assert.Empty(dgx.Api.Leases());
        Assert.True(dgx.Api.Requests(ListClaims) >= 2, "the stalled sweep was not followed by another");
    }

    private static async Task Until(FakeTimeProvider time, Func<bool> condition)
    {
        for (var i = 0; i < 1200 && !condition(); i++)
        {
            time.Advance(TimeSpan.FromMinutes(1));
            await Task.Delay(25);
        }
    }
}
