using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using SchedExt.Extender.Binding;
using SchedExt.Extender.State;
using SchedExt.Extender.Tests.State;
using SchedExt.Extender.Tests.Verbs;

namespace SchedExt.Extender.Tests.Binding;

/// <summary>A sweep whose claim list fails with an error other than a cancellation while the host stops: logged, not a failed service.</summary>
public sealed class ClaimJanitorShutdownTests
{
    [Fact]
    public async Task Janitor_ListFailsWithAnErrorDuringShutdown_LoggedAndTheServiceEndsCleanly()
    {
        var demo = Sources.DemoCluster.Build();
        using var factory = new ExtenderFactory(demo.Nodes.Concat<object>(demo.Pods));
        await factory.WaitSyncedAsync();
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", CultureInfo.InvariantCulture));
        var api = new ListFailsOnStop();
        var log = new ListLogger<ClaimJanitor>();
        using var janitor = new ClaimJanitor(
            api, factory.Services.GetRequiredService<Binder>(), factory.Services.GetRequiredService<ClusterState>(), time, log);

        await janitor.StartAsync(CancellationToken.None);
        for (var i = 0; i < 1200 && !api.Listing.Task.IsCompleted; i++)
        {
            time.Advance(TimeSpan.FromMinutes(1));
            await Task.Delay(25);
        }

        Assert.True(api.Listing.Task.IsCompleted, "no sweep started");
        await janitor.StopAsync(CancellationToken.None);

        // The connection error that surfaced as the host stopped is reported, and the loop ends as on any shutdown.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => janitor.ExecuteTask!);
        Assert.Contains(log.Entries, e => e.Id.Id == 401 && e.Message.Contains("connection closed by shutdown", StringComparison.Ordinal));
    }

    /// <summary>Lists claims until the caller cancels, then fails as a closed connection does (not with a cancellation).</summary>
    private sealed class ListFailsOnStop : IClusterApi
    {
        public TaskCompletionSource Listing { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<IReadOnlyList<ClaimRecord>> ListClaimsAsync(CancellationToken cancellationToken)
        {
            Listing.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith(static _ => { }, TaskScheduler.Default);
            throw new HttpRequestException("connection closed by shutdown");
        }

        public Task<PodRecord?> GetPodAsync(string ns, string name, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task BindAsync(string ns, string name, string uid, string node, IReadOnlyDictionary<string, string>? annotations, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task RecordEventAsync(string ns, string name, string uid, string type, string reason, string message, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<ClaimOutcome> TryClaimAsync(string claimName, ClaimHolder holder, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task ReleaseClaimAsync(string claimName, string? resourceVersion, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
