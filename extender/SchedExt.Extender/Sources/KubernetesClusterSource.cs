using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Options;
using SchedExt.Extender.State;

namespace SchedExt.Extender.Sources;

/// <summary>
/// Keeps <see cref="ClusterState"/> in step with the API server: lists Nodes and the Pods that can hold GPUs, then
/// watches both from the list's resourceVersion (with bookmarks), re-listing a kind when its watch expires (410 Gone)
/// and backing off exponentially on any other failure.
/// </summary>
/// <remarks>
/// The first list of both kinds is applied in one <see cref="ClusterState.ReplaceAll"/> so the state is never marked
/// synced with nodes but without their pods (which would make used GPUs look free). After that each kind is watched
/// and re-listed on its own: <c>ReplaceAll</c> with the other kind <c>null</c> keeps it untouched.
/// </remarks>
internal sealed class KubernetesClusterSource : BackgroundService
{
    private const int PageSize = 500;
    private const string NodesKind = "nodes";
    private const string PodsKind = "pods";

    private readonly IKubernetes _client;
    private readonly ClusterState _state;
    private readonly NodeReader _nodeReader;
    private readonly PodReader _podReader;
    private readonly TimeProvider _time;
    private readonly ILogger<KubernetesClusterSource> _logger;
    private readonly int _watchTimeoutSeconds;

    public KubernetesClusterSource(IKubernetes client, ClusterState state, NodeReader nodeReader, PodReader podReader, IOptions<ExtenderOptions> options, TimeProvider time, ILogger<KubernetesClusterSource> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _client = client;
        _state = state;
        _nodeReader = nodeReader;
        _podReader = podReader;
        _time = time;
        _logger = logger;
        _watchTimeoutSeconds = (int)Math.Clamp(options.Value.WatchTimeout.TotalSeconds, 1, int.MaxValue);
    }

    /// <summary>The first retry delay after a failure; doubled on each further failure up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How much longer than its own timeout a watch may go without an event or bookmark before it is taken for dead.</summary>
    public TimeSpan WatchSilenceMargin { get; init; } = TimeSpan.FromSeconds(30);

    private TimeSpan WatchSilenceLimit => TimeSpan.FromSeconds(_watchTimeoutSeconds) + WatchSilenceMargin;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = InitialBackoff;
        (string Nodes, string Pods) versions;
        while (true)
        {
            try
            {
                var (nodes, nodeVersion) = await ListNodesAsync(stoppingToken).ConfigureAwait(false);
                var (pods, podVersion) = await ListPodsAsync(stoppingToken).ConfigureAwait(false);
                _state.ReplaceAll(nodes, pods);
                versions = (nodeVersion, podVersion);
                break;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // Any failure to reach the API server is retried; the extender stays up and unready.
            catch (Exception e)
#pragma warning restore CA1031
            {
                _logger.SourceFailed(e, "nodes and pods", delay);
            }

            if (!await WaitAsync(delay, stoppingToken).ConfigureAwait(false))
            {
                return;
            }

            delay = Next(delay);
        }

        await Task.WhenAll(
            WatchLoopAsync(ContactStream.Nodes, versions.Nodes, RelistNodesAsync, WatchNodes, ApplyNode, stoppingToken),
            WatchLoopAsync(ContactStream.Pods, versions.Pods, RelistPodsAsync, WatchPods, ApplyPod, stoppingToken)).ConfigureAwait(false);
    }

    private async Task<(List<NodeInfo> Nodes, string Version)> ListNodesAsync(CancellationToken ct)
    {
        var infos = new List<NodeInfo>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        string? token = null;
        string? version = null;
        var count = 0;
        do
        {
            var page = await _client.CoreV1.ListNodeAsync(continueParameter: token, limit: PageSize, cancellationToken: ct).ConfigureAwait(false);
            version ??= page.Metadata?.ResourceVersion;
            token = page.Metadata?.ContinueProperty;
            foreach (var node in page.Items)
            {
                count++;
                if (Guarded(NodesKind, node, _nodeReader.Read) is { } info)
                {
                    infos.Add(info);
                    names.Add(info.Name);
                }
            }
        }
        while (!string.IsNullOrEmpty(token));

        _nodeReader.ForgetAllExcept(names);
        version ??= string.Empty;
        _logger.Listed(count, NodesKind, version);
        return (infos, version);
    }

    private async Task<(List<PodAllocation> Pods, string Version)> ListPodsAsync(CancellationToken ct)
    {
        var allocations = new List<PodAllocation>();
        string? token = null;
        string? version = null;
        var count = 0;
        do
        {
            var page = await _client.CoreV1.ListPodForAllNamespacesAsync(continueParameter: token, fieldSelector: PodReader.HoldingGpusFieldSelector, limit: PageSize, cancellationToken: ct).ConfigureAwait(false);
            version ??= page.Metadata?.ResourceVersion;
            token = page.Metadata?.ContinueProperty;
            foreach (var pod in page.Items)
            {
                count++;
                if (Guarded(PodsKind, pod, _podReader.Read) is { } allocation)
                {
                    allocations.Add(allocation);
                }
            }
        }
        while (!string.IsNullOrEmpty(token));

        version ??= string.Empty;
        _logger.Listed(count, PodsKind, version);
        return (allocations, version);
    }

    /// <summary>
    /// Reads one listed object; an object the reader cannot handle is logged and left out instead of failing the whole
    /// list (one bad annotation must not keep the extender from ever syncing).
    /// </summary>
    private TResult? Guarded<T, TResult>(string kind, T item, Func<T, TResult?> read)
        where T : IKubernetesObject<V1ObjectMeta>
        where TResult : class
    {
        try
        {
            return read(item);
        }
#pragma warning disable CA1031 // One object's defect must not stop the list; it is logged with the object's name.
        catch (Exception e)
#pragma warning restore CA1031
        {
            _logger.ObjectUnreadable(e, kind, item.Metadata?.Name ?? "(unnamed)");
            return null;
        }
    }

    private async Task<string> RelistNodesAsync(CancellationToken ct)
    {
        var (nodes, version) = await ListNodesAsync(ct).ConfigureAwait(false);
        _state.ReplaceAll(nodes, null);
        return version;
    }

    private async Task<string> RelistPodsAsync(CancellationToken ct)
    {
        var (pods, version) = await ListPodsAsync(ct).ConfigureAwait(false);
        _state.ReplaceAll(null, pods);
        return version;
    }

    private IAsyncEnumerable<(WatchEventType, V1Node)> WatchNodes(string version, Action<Exception> onError, CancellationToken ct) =>
        _client.CoreV1.WatchListNodeAsync(allowWatchBookmarks: true, resourceVersion: version, timeoutSeconds: _watchTimeoutSeconds, onError: onError, cancellationToken: ct);

    private IAsyncEnumerable<(WatchEventType, V1Pod)> WatchPods(string version, Action<Exception> onError, CancellationToken ct) =>
        _client.CoreV1.WatchListPodForAllNamespacesAsync(allowWatchBookmarks: true, fieldSelector: PodReader.HoldingGpusFieldSelector, resourceVersion: version, timeoutSeconds: _watchTimeoutSeconds, onError: onError, cancellationToken: ct);

    private void ApplyNode(WatchEventType type, V1Node node)
    {
        var name = node.Metadata?.Name;
        if (name is null)
        {
            return;
        }

        if (type == WatchEventType.Deleted)
        {
            _nodeReader.Forget(name);
            _state.RemoveNode(name);
        }
        else if (_nodeReader.Read(node) is { } info)
        {
            _state.UpsertNode(info);
        }
        else
        {
            _state.RemoveNode(name);
        }
    }

    private void ApplyPod(WatchEventType type, V1Pod pod)
    {
        var uid = pod.Metadata?.Uid;
        if (uid is null)
        {
            return;
        }

        // DELETED also arrives when a pod leaves the field selector (it finished); either way its GPUs are free.
        if (type != WatchEventType.Deleted && _podReader.Read(pod) is { } allocation)
        {
            _state.UpsertPod(allocation);
        }
        else
        {
            _state.RemovePod(uid);
        }
    }

    private async Task WatchLoopAsync<T>(
        ContactStream stream,
        string version,
        Func<CancellationToken, Task<string>> relist,
        Func<string, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType, T)>> watch,
        Action<WatchEventType, T> apply,
        CancellationToken ct)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        var kind = stream == ContactStream.Nodes ? NodesKind : PodsKind;
        string? current = version;
        var delay = InitialBackoff;
        while (!ct.IsCancellationRequested)
        {
            var wait = false;

            // KubernetesClient puts no timeout on a watch: a connection that dies without a FIN or RST (a load balancer
            // or conntrack dropping it, the API server's host lost) would leave the read waiting forever, and the view
            // frozen. The server ends a healthy watch by its timeout and sends bookmarks meanwhile, so a watch silent
            // for longer than that is abandoned and started again from the last version seen.
            // Armed once the watch starts: a slow list is the client's timeout's to end, not this one's.
            using var silence = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _time);
            using var watchToken = CancellationTokenSource.CreateLinkedTokenSource(ct, silence.Token);
            try
            {
                current ??= await relist(ct).ConfigureAwait(false);
                silence.CancelAfter(WatchSilenceLimit);
                Exception? streamError = null;
                await foreach (var (type, item) in watch(current, e => streamError ??= e, watchToken.Token).ConfigureAwait(false))
                {
                    if (streamError is not null)
                    {
                        break;
                    }

                    silence.CancelAfter(WatchSilenceLimit);
                    _state.Touch(stream);
                    if (type != WatchEventType.Bookmark)
                    {
                        Apply(kind, apply, type, item);
                    }

                    current = item.Metadata?.ResourceVersion ?? current;
                    delay = InitialBackoff;
                }

                switch (streamError)
                {
                    case not null when silence.IsCancellationRequested && !ct.IsCancellationRequested:
                        _logger.WatchSilent(kind, current, WatchSilenceLimit.TotalSeconds);
                        break;
                    case null:
                        // Closed by its timeout: the API server answered to the end.
                        _state.Touch(stream);
                        _logger.WatchClosed(kind, current);
                        break;
                    case KubernetesException k when IsExpired(k.Status):
                        _logger.WatchExpired(kind, current, k.Status.Reason ?? k.Message);
                        current = null;
                        break;
                    case KubernetesException k:
                        _logger.WatchError(kind, k.Message, delay);
                        wait = true;
                        break;
                    default:
                        // An event we could not read is an event we missed: only a fresh list is safe.
                        _logger.WatchUnreadable(streamError, kind);
                        current = null;
                        break;
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception) when (silence.IsCancellationRequested && !ct.IsCancellationRequested)
            {
                // Abandoned as silent (see above): resumed from the last version seen, no list needed.
                _logger.WatchSilent(kind, current ?? string.Empty, WatchSilenceLimit.TotalSeconds);
            }
            catch (HttpOperationException e) when (e.Response?.StatusCode == HttpStatusCode.Gone)
            {
                _logger.WatchExpired(kind, current ?? string.Empty, "410 Gone");
                current = null;
            }
#pragma warning disable CA1031 // Any failure to reach the API server is retried; the extender keeps serving the last state.
            catch (Exception e)
#pragma warning restore CA1031
            {
                _logger.SourceFailed(e, kind, delay);
                wait = true;
            }

            if (wait)
            {
                if (!await WaitAsync(delay, ct).ConfigureAwait(false))
                {
                    return;
                }

                delay = Next(delay);
            }
        }
    }

    /// <summary>
    /// Applies one watch event. An event the readers cannot handle is logged and skipped, its object left as it was:
    /// failing the watch instead would bring the same event back on every retry and freeze the whole kind.
    /// </summary>
    private void Apply<T>(string kind, Action<WatchEventType, T> apply, WatchEventType type, T item)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        try
        {
            apply(type, item);
        }
#pragma warning disable CA1031 // One object's defect must not stop the watch; it is logged with the object's name.
        catch (Exception e)
#pragma warning restore CA1031
        {
            _logger.ObjectUnreadable(e, kind, item.Metadata?.Name ?? "(unnamed)");
        }
    }

    /// <summary>True for the API server's "resource version too old" answers: 410 Gone, reason Expired or Gone.</summary>
    internal static bool IsExpired(V1Status? status) =>
        status is not null && (status.Code == (int)HttpStatusCode.Gone || status.Reason is "Expired" or "Gone");

    private TimeSpan Next(TimeSpan delay) => delay * 2 > MaxBackoff ? MaxBackoff : delay * 2;

    private async Task<bool> WaitAsync(TimeSpan delay, CancellationToken ct)
    {
        try
        {
            await Task.Delay(delay, _time, ct).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
