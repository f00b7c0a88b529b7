using Microsoft.Extensions.Options;

namespace SchedExt.Webhook.Hosting;

/// <summary>A file the webhook re-reads on a timer (the policy, the TLS certificate, the cluster snapshot).</summary>
internal interface IWatchedFile
{
    /// <summary>What the file is, for the log: "policy", "TLS certificate", …</summary>
    string FileDescription { get; }

    /// <summary>Re-reads the file if it changed; reports its own expected failures and keeps what is loaded.</summary>
    void ReloadIfChanged();
}

/// <summary>Re-checks the watched files (<see cref="IWatchedFile"/>) on a timer.</summary>
/// <remarks>
/// Polling by content instead of FileSystemWatcher: ConfigMap and Secret volumes update by swapping a <c>..data</c>
/// symlink, which inotify-based watchers often miss; reading a few KiB every few seconds is cheap and always right.
/// </remarks>
internal sealed class FileWatchService(IEnumerable<IWatchedFile> files, IOptions<WebhookOptions> options, TimeProvider time, ILogger<FileWatchService> log)
    : BackgroundService
{
    private readonly IWatchedFile[] _files = [.. files];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.FileCheckInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            foreach (var file in _files)
            {
                Check(file);
            }
        }
    }

    private void Check(IWatchedFile file)
    {
        // Each reload reports its own expected failures (unreadable, invalid) and keeps what is loaded; anything else
        // must not end this loop (and with it the host), nor skip the other files. A reload remembers the bytes it saw
        // before it reads them, so a file that failed this way is read again when it changes, as after any rejected version.
        try
        {
            file.ReloadIfChanged();
        }
#pragma warning disable CA1031 // See above: logged; the file is read again when it changes.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Diagnostics.Log.FileCheckFailed(log, file.FileDescription, e, e.Message);
        }
    }
}
