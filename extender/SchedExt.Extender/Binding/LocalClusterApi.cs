using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using SchedExt.Extender.State;
using SchedExt.Extender.Verbs;
using SchedExt.Topology.Requests;

namespace SchedExt.Extender.Binding;

/// <summary>
/// The binder's API for the demo and snapshot modes, where no API server exists: pending pods come from what filter
/// saw, a bind writes the allocation straight into <see cref="ClusterState"/>, and claims live in memory with the same
/// create-if-absent semantics as the Lease claims.
/// </summary>
internal sealed partial class LocalClusterApi(ClusterState state, PendingPods pending, IOptionsMonitor<ExtenderOptions> options, TimeProvider time, ILogger<LocalClusterApi> log) : IClusterApi
{
    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<string, ClaimRecord> _claims = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, string>> _annotations = new(StringComparer.Ordinal);
    private long _version;

    public Task<PodRecord?> GetPodAsync(string ns, string name, CancellationToken cancellationToken)
    {
        var key = ns + "/" + name;
        lock (_gate)
        {
            var bound = state.Current.Allocations.Values.FirstOrDefault(a => a.Namespace == ns && a.Name == name);
            var seen = pending.Find(ns, name);
            if (bound is null && seen is null)
            {
                return Task.FromResult<PodRecord?>(null);
            }

            var annotations = new Dictionary<string, string>(seen?.Annotations ?? [], StringComparer.Ordinal);
            foreach (var (k, v) in _annotations.GetValueOrDefault(key) ?? [])
            {
                annotations[k] = v;
            }

            var record = bound is not null
                ? new PodRecord(bound.Uid, bound.Node, "Running", false, System.Numerics.BitOperations.PopCount(bound.Gpus), annotations)
                : new PodRecord(seen!.Uid, null, "Pending", false, seen.GpuCount, annotations);
            return Task.FromResult<PodRecord?>(record);
        }
    }

    public async Task BindAsync(string ns, string name, string uid, string node, IReadOnlyDictionary<string, string>? annotations, CancellationToken cancellationToken)
    {
        var pod = await GetPodAsync(ns, name, cancellationToken).ConfigureAwait(false) ?? throw new ApiConflictException($"pod {ns}/{name} not found");
        if (pod.NodeName is not null && pod.NodeName != node)
        {
            throw new ApiConflictException($"pod {ns}/{name} is already bound to {pod.NodeName}");
        }

        if (annotations is not null)
        {
            lock (_gate)
            {
                var key = ns + "/" + name;
                if (!_annotations.TryGetValue(key, out var current))
                {
                    _annotations[key] = current = new Dictionary<string, string>(StringComparer.Ordinal);
                }

                foreach (var (k, v) in annotations)
                {
                    current[k] = v;
                }
            }
        }

        // The assignment is the Binding's; the placement group is the pod's own (as filter saw it).
        _ = AssignedGpus.TryParse(annotations?.GetValueOrDefault(SchedExtKeys.AssignedGpus) ?? pod.Annotations.GetValueOrDefault(SchedExtKeys.AssignedGpus), out var gpus);
        var priority = pending.Find(ns, name)?.Priority ?? state.Current.Allocations.GetValueOrDefault(uid)?.Priority ?? 0;
        state.UpsertLocalPod(new PodAllocation(uid, ns, name, node, gpus, pod.Annotations.GetValueOrDefault(SchedExtKeys.PlacementGroup), Priority: priority));
        pending.Forget(ns, name);
    }

    public Task RecordEventAsync(string ns, string name, string uid, string type, string reason, string message, CancellationToken cancellationToken)
    {
        Log.Event(log, type, reason, ns, name, message);
        return Task.CompletedTask;
    }

    public Task<ClaimOutcome> TryClaimAsync(string claimName, ClaimHolder holder, CancellationToken cancellationToken)
    {
        var record = new ClaimRecord(claimName, holder, Interlocked.Increment(ref _version).ToString(System.Globalization.CultureInfo.InvariantCulture), time.GetUtcNow());
        if (_claims.TryAdd(claimName, record))
        {
            return Task.FromResult(new ClaimOutcome(true, null, record.ResourceVersion));
        }

        return Task.FromResult(_claims.TryGetValue(claimName, out var existing) ? new ClaimOutcome(false, existing) : new ClaimOutcome(false, null));
    }

    public Task ReleaseClaimAsync(string claimName, string? resourceVersion, CancellationToken cancellationToken)
    {
        if (resourceVersion is null)
        {
            _claims.TryRemove(claimName, out _);
        }
        else if (_claims.TryGetValue(claimName, out var existing) && existing.ResourceVersion == resourceVersion)
        {
            _claims.TryRemove(new KeyValuePair<string, ClaimRecord>(claimName, existing));
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<ClaimRecord>> ListClaimsAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<ClaimRecord>>([.. _claims.Values]);

    /// <summary>The claim namespace is meaningless in memory; read only so the option is validated the same way.</summary>
    public string ClaimNamespace => options.CurrentValue.ClaimNamespace;

    private static partial class Log
    {
        [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "Event {Type} {Reason} on {Namespace}/{Pod}: {Message}")]
        public static partial void Event(ILogger logger, string type, string reason, string @namespace, string pod, string message);
    }
}
