using Microsoft.Extensions.Options;
using SchedExt.Webhook.Feasibility;
using SchedExt.Webhook.Policy;

namespace SchedExt.Webhook.Hosting;

/// <summary>Re-checks the policy, certificate and snapshot files on a timer.</summary>
/// <remarks>
/// Polling by content instead of FileSystemWatcher: ConfigMap and Secret volumes update by swapping a <c>..data</c>
/// symlink, which inotify-based watchers often miss; reading a few KiB every few seconds is cheap and always right.
/// </remarks>
internal sealed class FileWatchService(PolicyStore policy, TlsCertificateSource tls, SnapshotFileSource snapshot, IOptions<WebhookOptions> options, TimeProvider time)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.FileCheckInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            policy.Reload();
            tls.Reload();
            snapshot.Reload();
        }
    }
}
