using Microsoft.Extensions.Options;
using SchedExt.Extender.State;

namespace SchedExt.Extender.Sources;

/// <summary>
/// Serves the cluster described by a snapshot file (<see cref="ExtenderOptions.SnapshotFile"/>) and reloads it when the
/// file changes. A malformed file fails start-up with a located message; a malformed new version is logged and the
/// last good state stays.
/// </summary>
internal sealed class SnapshotFileSource : BackgroundService
{
    private readonly ClusterState _state;
    private readonly NodeReader _nodeReader;
    private readonly PodReader _podReader;
    private readonly TimeProvider _time;
    private readonly ILogger<SnapshotFileSource> _logger;
    private (DateTime WrittenUtc, long Length) _loaded;

    public SnapshotFileSource(ClusterState state, NodeReader nodeReader, PodReader podReader, IOptions<ExtenderOptions> options, TimeProvider time, ILogger<SnapshotFileSource> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        var file = options.Value.SnapshotFile;
        if (string.IsNullOrWhiteSpace(file))
        {
            throw new InvalidOperationException($"{ExtenderOptions.Section}:{nameof(ExtenderOptions.SnapshotFile)} is not set");
        }

        Path = System.IO.Path.GetFullPath(file);
        _state = state;
        _nodeReader = nodeReader;
        _podReader = podReader;
        _time = time;
        _logger = logger;
    }

    /// <summary>The absolute path of the snapshot file.</summary>
    public string Path { get; }

    /// <summary>How often the file's last-write time and length are checked.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Loads the file before the host reports started, so a bad file stops start-up with its message.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        Load();
        return base.StartAsync(cancellationToken);
    }

    /// <summary>Reloads the file if it changed since the last load; false when it changed but could not be used.</summary>
    public bool ReloadIfChanged()
    {
        // The stamp is taken before the file is read: if it changes while (or after) it is read, the next poll differs
        // from what is recorded and reads it again, whether this read succeeded or not.
        (DateTime, long)? stamp = null;
        try
        {
            var info = new FileInfo(Path);
            if (!info.Exists)
            {
                throw new FileNotFoundException("the file no longer exists", Path);
            }

            stamp = (info.LastWriteTimeUtc, info.Length);
            if (stamp != _loaded)
            {
                Load(stamp.Value);
            }

            // The file is readable: the state is as fresh as its source, so readiness must not call it stale.
            _state.Touch();
            return true;
        }
#pragma warning disable CA1031 // Whatever a bad file causes is logged and the last good state kept: the poll must go on.
        catch (Exception e) when (e is not OperationCanceledException)
#pragma warning restore CA1031
        {
            _logger.SnapshotReloadFailed(Path, e.Message);

            // Do not retry the same bad version every poll; a later write changes the stamp and is tried again.
            if (stamp is { } seen)
            {
                _loaded = seen;
            }

            return false;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(PollInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                ReloadIfChanged();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host is stopping.
        }
    }

    private void Load()
    {
        var info = new FileInfo(Path);
        Load((info.LastWriteTimeUtc, info.Length));
    }

    private void Load((DateTime, long) stamp)
    {
        var objects = SnapshotFile.Load(Path, out var skipped);
        var (nodes, pods) = objects.ReplaceInto(_state, _nodeReader, _podReader);
        _loaded = stamp;
        if (skipped > 0)
        {
            _logger.SnapshotSkipped(Path, skipped);
        }

        _logger.SnapshotLoaded(nodes, pods, Path);
    }
}
