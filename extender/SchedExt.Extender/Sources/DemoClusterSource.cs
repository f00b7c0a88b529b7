using SchedExt.Extender.State;

namespace SchedExt.Extender.Sources;

/// <summary>Serves the built-in <see cref="DemoCluster"/> (no Kubernetes needed); the state never changes after start.</summary>
internal sealed class DemoClusterSource(ClusterState state, NodeReader nodeReader, PodReader podReader, TimeProvider time, ILogger<DemoClusterSource> logger) : BackgroundService
{
    /// <summary>How often contact is refreshed so readiness never calls the fixed demo state stale.</summary>
    public TimeSpan TouchInterval { get; init; } = TimeSpan.FromSeconds(30);

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var (nodes, pods) = DemoCluster.Build().ReplaceInto(state, nodeReader, podReader);
        logger.DemoLoaded(nodes, pods);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TouchInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                state.Touch();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host is stopping.
        }
    }
}
