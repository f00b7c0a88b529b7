using SchedExt.Extender.State;

namespace SchedExt.Extender.Binding;

/// <summary>
/// Frees claims whose pod is gone, finished, recreated, bound elsewhere or never bound (a bind that died half-way on
/// any replica): the claim objects live in the extender's namespace, so pod garbage collection cannot reach them.
/// </summary>
internal sealed partial class ClaimJanitor(IClusterApi api, Binder binder, ClusterState state, TimeProvider time, ILogger<ClaimJanitor> log) : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await SweepAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // Includes a request that hit the API client's own timeout (an OperationCanceledException while the
                // host is not stopping): letting it escape would end the janitor and, by default, stop the host. Only
                // the cancellation of shutdown itself ends the loop.
                Log.SweepFailed(log, e.Message);
            }
        }
    }

    /// <summary>One pass: returns how many claims were released.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var released = 0;
        var snapshot = state.Current;
        foreach (var claim in await api.ListClaimsAsync(cancellationToken).ConfigureAwait(false))
        {
            var holder = claim.Holder;
            if (snapshot.Allocations.TryGetValue(holder.PodUid, out var allocation) && allocation.Node == holder.Node
                && holder.Gpu >= 0 && (allocation.Gpus & (1UL << holder.Gpu)) != 0)
            {
                continue; // held by a bound pod that really has this GPU
            }

            if (await binder.IsStaleAsync(claim, cancellationToken).ConfigureAwait(false))
            {
                await api.ReleaseClaimAsync(claim.Name, claim.ResourceVersion, cancellationToken).ConfigureAwait(false);
                Log.Released(log, claim.Name, holder.Namespace, holder.PodName);
                released++;
            }
        }

        return released;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 400, Level = LogLevel.Information, Message = "Released stale claim {Claim} of {Namespace}/{Pod}")]
        public static partial void Released(ILogger logger, string claim, string @namespace, string pod);

        [LoggerMessage(EventId = 401, Level = LogLevel.Warning, Message = "Claim sweep failed: {Error}")]
        public static partial void SweepFailed(ILogger logger, string error);
    }
}
