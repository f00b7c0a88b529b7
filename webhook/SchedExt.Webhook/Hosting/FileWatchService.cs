using Microsoft.Extensions.Options;
using SchedExt.Webhook.Feasibility;
using SchedExt.Webhook.Policy;

namespace SchedExt.Webhook.Hosting;

/// <summary>Re-checks the policy, certificate and snapshot files on a timer.</summary>
/// <remarks>
/// Polling by content instead of FileSystemWatcher: ConfigMap and Secret volumes update by swapping a <c>..data</c>
/// symlink, which inotify-based watchers often miss; reading a few KiB every few seconds is cheap and always right.
/// </remarks>
internal sealed class FileWatchService(
    PolicyStore policy, TlsCertificateSource tls, SnapshotFileSource snapshot, IOptions<WebhookOptions> options, TimeProvider time, ILogger<FileWatchService> log)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.FileCheckInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            // Each reload reports its own expected failures (unreadable, invalid) and keeps what is loaded; anything else
            // must not end this loop (and with it the host). A reload remembers the bytes it saw before it reads them,
            // so a file that failed this way is read again when it changes, as after any rejected version.
            Check("policy", () => policy.Reload());
            Check("TLS certificate", () => tls.Reload());
            Check("cluster snapshot", () => snapshot.Reload());
        }
    }

    private void Check(string what, Action reload)
    {
        try
        {
            reload();
        }
#pragma warning disable CA1031 // See ExecuteAsync: logged; the file is read again when it changes.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Diagnostics.Log.FileCheckFailed(log, what, e, e.Message);
        }
    }
}
