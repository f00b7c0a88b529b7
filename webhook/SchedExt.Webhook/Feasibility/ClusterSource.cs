using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Options;
using SchedExt.Topology.Requests;
using SchedExt.Webhook.Diagnostics;
using SchedExt.Webhook.Hosting;
using SchedExt.Webhook.Policy;

namespace SchedExt.Webhook.Feasibility;

/// <summary>Feeds <see cref="ClusterView"/>: from the snapshot file when one is configured, else by list+watch of Nodes and Namespaces.</summary>
/// <remarks>
/// A watch that ends (timeout, 410 Gone after compaction, network) is followed by a fresh list: the view is rebuilt from
/// the list, so no event is ever lost. Node heartbeats change nothing the webhook reads and do not republish.
/// </remarks>
internal sealed class ClusterSource(
    IServiceProvider services,
    SnapshotFileSource snapshot,
    ClusterView cluster,
    PolicyStore policies,
    ClusterAccess access,
    IOptions<WebhookOptions> options,
    TimeProvider time,
    ILogger<ClusterSource> logger) : BackgroundService
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private readonly Dictionary<string, NodeFacts> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IReadOnlyDictionary<string, string>> _namespaces = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private bool _nodesListed;
    private bool _namespacesListed;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // The snapshot file is read before the host finishes starting, so the first review already sees it.
        // (Since .NET 10 ExecuteAsync runs wholly in the background.)
        if (snapshot.Enabled)
        {
            try
            {
                snapshot.Reload();
            }
#pragma warning disable CA1031 // A file the reader did not foresee must not stop the start: refused and logged, exactly as at a
                               // later check (FileWatchService); the shapes stay unknown until a good file appears.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.SnapshotRejected(logger, options.Value.SnapshotFile!, ex.Message);
            }

            return Task.CompletedTask;
        }

        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.WatchCluster || !access.Available)
        {
            Log.NoClusterSource(logger);
            return;
        }

        var client = services.GetRequiredService<IKubernetes>();
        await Task.WhenAll(
            RunAsync("nodes", (heard, ct) => WatchNodesAsync(client, heard, ct), stoppingToken),
            RunAsync("namespaces", (heard, ct) => WatchNamespacesAsync(client, heard, ct), stoppingToken));
    }

    private async Task RunAsync(string resource, Func<Action, CancellationToken, Task> watch, CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromSeconds(1);
        var limit = options.Value.WatchSilence;
        while (!stoppingToken.IsCancellationRequested)
        {
            // KubernetesClient puts no timeout on a watch: one whose connection died without a FIN or RST would wait
            // forever, and the facts would freeze. Every event and bookmark restarts this clock; when it runs out, the
            // watch is dropped and the kind listed again.
            using var silence = new CancellationTokenSource(limit, time);
            using var watchToken = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, silence.Token);
            try
            {
                await watch(() => silence.CancelAfter(limit), watchToken.Token);
                delay = TimeSpan.FromSeconds(1);
                Log.WatchRestart(logger, resource, "watch closed");
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // Whatever the abandoned watch threw on its way out: it is started again at once.
            catch (Exception) when (silence.IsCancellationRequested)
#pragma warning restore CA1031
            {
                Log.WatchRestart(logger, resource, $"nothing heard for {limit.TotalSeconds:F0}s; the connection may have died");
            }
#pragma warning disable CA1031 // Anything but stopping is retried with back-off: a request timeout (OperationCanceledException
                               // while not stopping), a refused or malformed answer, a bug in one object. The webhook keeps its last facts.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.ListFailed(logger, resource, ex.Message, delay);
                await Task.Delay(delay, time, stoppingToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }

    private async Task WatchNodesAsync(IKubernetes client, Action heard, CancellationToken ct)
    {
        var resource = policies.Current?.ResourceName ?? SchedExtKeys.GpuResource;
        var list = await client.CoreV1.ListNodeAsync(cancellationToken: ct);
        // Read the whole list before touching the view: a failure on one object must not leave a half-filled one behind.
        var listed = list.Items.Select(node => NodeFactsReader.FromNode(node, resource)).ToList();
        lock (_lock)
        {
            _nodes.Clear();
            foreach (var facts in listed)
            {
                _nodes[facts.Name] = facts;
            }

            _nodesListed = true;
            PublishLocked();
        }

        var events = client.CoreV1.WatchListNodeAsync(
            allowWatchBookmarks: true, resourceVersion: list.Metadata?.ResourceVersion, timeoutSeconds: 600, cancellationToken: ct);
        heard();
        await foreach (var (type, node) in events)
        {
            heard();
            if (policies.Current?.ResourceName is { } now && now != resource)
            {
                // The policy's devices.resourceName changed: every node's facts must be read again with it (re-list).
                return;
            }

            if (type == WatchEventType.Error || node?.Metadata?.Name is null)
            {
                // An Error event carries a Status (410 Gone after compaction): re-list.
                if (type == WatchEventType.Error)
                {
                    return;
                }

                continue;
            }

            lock (_lock)
            {
                var changed = type switch
                {
                    WatchEventType.Deleted => _nodes.Remove(node.Metadata.Name),
                    WatchEventType.Added or WatchEventType.Modified => Upsert(NodeFactsReader.FromNode(node, resource)),
                    _ => false,
                };
                if (changed)
                {
                    PublishLocked();
                }
            }
        }
    }

    private async Task WatchNamespacesAsync(IKubernetes client, Action heard, CancellationToken ct)
    {
        var list = await client.CoreV1.ListNamespaceAsync(cancellationToken: ct);
        lock (_lock)
        {
            _namespaces.Clear();
            foreach (var ns in list.Items)
            {
                _namespaces[ns.Metadata.Name] = NodeFactsReader.LabelsOf(ns);
            }

            _namespacesListed = true;
            PublishLocked();
        }

        var events = client.CoreV1.WatchListNamespaceAsync(
            allowWatchBookmarks: true, resourceVersion: list.Metadata?.ResourceVersion, timeoutSeconds: 600, cancellationToken: ct);
        heard();
        await foreach (var (type, ns) in events)
        {
            heard();
            if (type == WatchEventType.Error)
            {
                return;
            }

            if (ns?.Metadata?.Name is not { } name || type == WatchEventType.Bookmark)
            {
                continue;
            }

            lock (_lock)
            {
                if (type == WatchEventType.Deleted)
                {
                    _namespaces.Remove(name);
                }
                else
                {
                    _namespaces[name] = NodeFactsReader.LabelsOf(ns);
                }

                PublishLocked();
            }
        }
    }

    private bool Upsert(NodeFacts facts)
    {
        if (_nodes.TryGetValue(facts.Name, out var current) && current == facts)
        {
            return false;
        }

        _nodes[facts.Name] = facts;
        return true;
    }

    private void PublishLocked()
    {
        // Feasibility may use the nodes as soon as they are listed; readiness also waits for the namespace list, since
        // namespace defaults chosen by matchLabels cannot apply before it.
        if (_nodesListed)
        {
            cluster.Publish([.. _nodes.Values], new Dictionary<string, IReadOnlyDictionary<string, string>>(_namespaces, StringComparer.Ordinal), "api", _namespacesListed);
        }
    }
}
