using System.Globalization;
using System.Numerics;
using Microsoft.Extensions.Options;
using SchedExt.Extender.Metrics;
using SchedExt.Extender.Scheduling;
using SchedExt.Extender.State;
using SchedExt.Topology.Requests;
using SchedExt.Topology.Search;

namespace SchedExt.Extender.Binding;

/// <summary>
/// Binds a pod: picks the best free GPU set on the chosen node against the latest snapshot plus in-flight reservations,
/// claims every GPU with a create-if-absent object in the API server (the cross-replica lock), writes the assignment
/// onto the pod, creates the Binding and records an Event. Any failure undoes what this attempt did.
/// </summary>
internal sealed partial class Binder(
    ClusterState state,
    PlacementPlanner planner,
    RequestCache requests,
    Reservations reservations,
    IClusterApi api,
    ExtenderMetrics metrics,
    IOptionsMonitor<ExtenderOptions> options,
    TimeProvider time,
    ILogger<Binder> log)
{
    private const int Attempts = 3;

    /// <summary>A claim whose pod never got bound is abandoned after this long (a crashed bind on another replica).</summary>
    private static readonly TimeSpan AbandonedAfter = TimeSpan.FromMinutes(2);

    /// <summary>The deadline of each call made outside the bind's own (read-back, undo, release, event): it may be spent.</summary>
    private static readonly TimeSpan SideCallTimeout = TimeSpan.FromSeconds(10);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> _podLocks = new(StringComparer.Ordinal);

    /// <summary>
    /// This replica, written on every claim it makes: a claim of the same pod from another replica (two schedulers'
    /// binds of one pod around a leader change) may belong to a bind still in flight, and is never taken over.
    /// </summary>
    private readonly string _replica = $"{Environment.MachineName}/{Guid.NewGuid():N}";

    /// <summary>Binds; returns null on success or the error kube-scheduler should see (it retries the pod).</summary>
    public async Task<string?> BindAsync(string ns, string name, string uid, string nodeName, CancellationToken cancellationToken)
    {
        // The sequence below must not be cut half-way by the scheduler giving up on the HTTP call, so it runs on its own
        // bounded token; the scheduler's retry then finds the pod bound (idempotent) or the attempt fully undone.
        _ = cancellationToken;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30), time);
        var ct = timeout.Token;

        // A retry of the same pod while an earlier bind still runs (the scheduler gave up after its HTTP timeout) waits
        // for it instead of racing it for the same claims, and then finds the pod bound.
        var gate = _podLocks.GetOrAdd(uid, static _ => new SemaphoreSlim(1, 1));
        try
        {
            await gate.WaitAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return Fail("error", $"an earlier bind of pod {ns}/{name} is still running; retry");
        }

        try
        {
            return await BindLockedAsync(ns, name, uid, nodeName, ct).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The failed attempt already released its claims and reservation, or kept them when its Binding may exist (CompleteAsync).
            return Fail("error", $"binding pod {ns}/{name} to {nodeName} failed: {e.Message}");
        }
        finally
        {
            gate.Release();
            if (gate.CurrentCount == 1)
            {
                _podLocks.TryRemove(new KeyValuePair<string, SemaphoreSlim>(uid, gate));
            }
        }
    }

    private async Task<string?> BindLockedAsync(string ns, string name, string uid, string nodeName, CancellationToken ct)
    {
        var pod = await api.GetPodAsync(ns, name, ct).ConfigureAwait(false);
        if (pod is null)
        {
            return Fail("error", $"pod {ns}/{name} not found");
        }

        if (!string.Equals(pod.Uid, uid, StringComparison.Ordinal))
        {
            return Fail("error", $"pod {ns}/{name} has UID {pod.Uid}, not {uid}: it was recreated");
        }

        if (pod.NodeName is not null)
        {
            if (pod.NodeName == nodeName)
            {
                metrics.Bind("already_bound");
                return null;
            }

            return Fail("error", $"pod {ns}/{name} is already bound to {pod.NodeName}");
        }

        if (pod.GpuCount == 0)
        {
            // Not ours to place (no managed GPUs): bind as the default binder would.
            return await BindOnlyAsync(ns, name, uid, nodeName, ct).ConfigureAwait(false);
        }

        var snapshot = state.Current;
        var node = snapshot.FindNode(nodeName);
        if (node is null)
        {
            return Fail("error", $"node {nodeName} is not known to SchedExt (no {options.CurrentValue.GpuResourceName} or not synced yet)");
        }

        var facts = new Protocol.PodFacts();
        facts.Load(pod.Annotations, pod.GpuCount);
        if (!facts.TryGetRequest(out var request, out var group, out var invalid))
        {
            return Fail("error", invalid ?? "pod requests no GPUs");
        }

        var compiled = requests.Get(request!);
        ulong exclude = 0;
        NodeVerdict verdict = default;
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            var chosen = reservations.ChooseAndReserve(node, snapshot, uid, exclude, free =>
            {
                verdict = planner.EvaluateWithFree(compiled, node, snapshot, group, free);
                return verdict.Feasible ? verdict.Gpus : 0;
            });
            if (chosen == 0)
            {
                return Fail("no_fit", $"node {nodeName} no longer fits the pod: {verdict.ReasonText()}");
            }

            var claimed = new List<HeldClaim>();
            ulong taken;
            try
            {
                taken = await ClaimAllAsync(new ClaimHolder(uid, ns, name, nodeName, 0, _replica), chosen, claimed, ct).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                await AbandonAsync(nodeName, uid, claimed).ConfigureAwait(false);
                return Fail("error", $"claiming GPUs on {nodeName} for pod {ns}/{name} failed: {e.Message}");
            }

            if (taken != 0)
            {
                await AbandonAsync(nodeName, uid, claimed).ConfigureAwait(false);
                exclude |= taken;
                metrics.Bind("conflict_retry");
                Log.ClaimConflict(log, ns, name, nodeName, taken, attempt + 1);
                continue;
            }

            return await CompleteAsync(ns, name, uid, node, chosen, verdict, claimed, ct).ConfigureAwait(false);
        }

        return Fail("conflict", $"GPUs on {nodeName} were claimed by other pods at the same time; retry");
    }

    private async Task<string?> CompleteAsync(string ns, string name, string uid, NodeState node, ulong gpus, NodeVerdict verdict, List<HeldClaim> claims, CancellationToken ct)
    {
        // The assignment travels in the Binding: the API server writes it onto the pod together with spec.nodeName, and
        // only if the pod is still unbound, so a bind that loses to another never leaves its assignment on the pod.
        var annotations = AssignmentAnnotations(node, gpus, verdict);
        try
        {
            await api.BindAsync(ns, name, uid, node.Name, annotations, ct).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            if (await AfterBindFailedAsync(ns, name, uid, node, annotations, claims, e).ConfigureAwait(false) is { } error)
            {
                return error;
            }

            // The reply was lost but the pod is bound here with this assignment: a completed bind, reported as one.
        }

        metrics.Bind("bound");
        metrics.PlacementScore.Observe(verdict.ProtocolScore);
        var message = $"Assigned GPUs {annotations[SchedExtKeys.AssignedGpus]} on {node.Name} ({node.Shape.Description})"
            + (annotations[SchedExtKeys.AssignedNuma] is { Length: > 0 } numa ? $", NUMA {numa}" : string.Empty)
            + (annotations[SchedExtKeys.AssignedNics] is { Length: > 0 } nics ? $", NICs {nics}" : string.Empty)
            + $", placement score {verdict.ProtocolScore}/10";
        Log.Bound(log, ns, name, node.Name, annotations[SchedExtKeys.AssignedGpus]!);
        try
        {
            // Its own deadline: the bind's may be spent (a Binding that timed out but was stored after all).
            using var eventTimeout = new CancellationTokenSource(SideCallTimeout, time);
            await api.RecordEventAsync(ns, name, uid, "Normal", "GpusAssigned", message, eventTimeout.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Events are informative; a failed one must not fail a completed bind.
            Log.EventFailed(log, ns, name, e.Message);
        }

        return null;
    }

    /// <summary>
    /// After creating the Binding failed: null when the pod is bound to <paramref name="node"/> with this assignment after
    /// all (a lost reply, or the same pod bound with the same choice by another replica in a leader change), else the
    /// bind's error, with what this attempt did undone unless the pod's fate is unknown. Looks before undoing anything,
    /// or a live pod would lose its claims.
    /// </summary>
    private async Task<string?> AfterBindFailedAsync(string ns, string name, string uid, NodeState node, Dictionary<string, string> annotations, List<HeldClaim> claims, Exception e)
    {
        var (answered, now) = await TryGetPodAsync(ns, name).ConfigureAwait(false);
        // What the pod is bound with here, if it is bound here (by this bind or another of the same pod).
        var boundWith = now is not null && now.Uid == uid && now.NodeName == node.Name ? now.Annotations.GetValueOrDefault(SchedExtKeys.AssignedGpus) : null;
        if (boundWith is not null && boundWith == annotations[SchedExtKeys.AssignedGpus])
        {
            return null;
        }

        if (!answered)
        {
            // Its fate is unknown: the claims and the reservation may guard GPUs a running pod uses, so they are kept.
            // If the pod was not bound after all, the claims fall stale (holder never bound in time) and the janitor
            // removes them, and the reservation expires; the scheduler's retry of this pod reuses both meanwhile.
            Log.UndoKept(log, ns, name, node.Name);
            return Fail("error", $"binding pod {ns}/{name} to {node.Name} failed: {e.Message}");
        }

        // Answered: not bound here with this assignment, or gone (then it holds nothing). Undo what this attempt did, but
        // a claim of a GPU the pod is bound to here by another of its binds (one of this replica's earlier attempts, whose
        // claims this one took over) now guards that bind's assignment and stays.
        var keep = AssignedGpus.TryParse(boundWith, out var bound) ? bound : 0;
        await AbandonAsync(node.Name, uid, claims.FindAll(c => (keep & (1UL << c.Gpu)) == 0)).ConfigureAwait(false);
        return Fail("error", $"binding pod {ns}/{name} to {node.Name} failed: {e.Message}");
    }

    /// <summary>
    /// The assignment annotations: indices always; UUIDs, NUMA nodes and near NICs where the topology knows them, else
    /// empty (every key is written, so a value copied from another pod's manifest cannot survive the bind).
    /// </summary>
    internal static Dictionary<string, string> AssignmentAnnotations(NodeState node, ulong gpus, NodeVerdict verdict)
    {
        var topology = node.Info.Topology;
        var indices = new List<int>();
        for (var m = gpus; m != 0; m &= m - 1)
        {
            indices.Add(BitOperations.TrailingZeroCount(m));
        }

        var uuids = indices.Select(i => topology.Gpus[i].Uuid).ToList();
        var numa = indices.Select(i => topology.Gpus[i].NumaNode).Where(n => n >= 0).Distinct().Order().ToList();
        var nics = indices.SelectMany(topology.NearNics).Distinct(StringComparer.Ordinal).ToList();
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [SchedExtKeys.AssignedGpus] = AssignedGpus.Format(gpus),
            [SchedExtKeys.AssignedUuids] = uuids.All(u => u is not null) ? string.Join(',', uuids) : string.Empty,
            [SchedExtKeys.AssignedNuma] = string.Join(',', numa),
            [SchedExtKeys.AssignedNics] = string.Join(',', nics),
            [SchedExtKeys.PlacementScore] = verdict.ProtocolScore.ToString(CultureInfo.InvariantCulture),
        };
    }

    /// <summary>Claims every GPU of <paramref name="gpus"/>, adding what it holds to <paramref name="claimed"/> as it goes; returns the GPUs held by others.</summary>
    private async Task<ulong> ClaimAllAsync(ClaimHolder pod, ulong gpus, List<HeldClaim> claimed, CancellationToken ct)
    {
        ulong taken = 0;
        for (var m = gpus; m != 0; m &= m - 1)
        {
            var gpu = BitOperations.TrailingZeroCount(m);
            var claim = ClaimNames.For(pod.Node, gpu);
            if (await TryClaimAsync(claim, pod with { Gpu = gpu }, ct).ConfigureAwait(false) is { } version)
            {
                claimed.Add(new HeldClaim(claim, version, gpu));
            }
            else
            {
                taken |= 1UL << gpu;
            }
        }

        return taken;
    }

    /// <summary>Claims one GPU; returns the claim's version when this pod holds it, null when another pod does.</summary>
    private async Task<string?> TryClaimAsync(string claim, ClaimHolder holder, CancellationToken ct)
    {
        var staleRemoved = false;
        for (var round = 0; round < 4; round++)
        {
            var outcome = await api.TryClaimAsync(claim, holder, ct).ConfigureAwait(false);
            if (outcome.Created)
            {
                return outcome.Version ?? string.Empty;
            }

            if (outcome.Existing is not { } existing)
            {
                continue; // vanished between create and read: try again
            }

            if (existing.Holder.PodUid == holder.PodUid && existing.Holder.Replica == holder.Replica)
            {
                // Ours, left by an earlier attempt of this pod in this replica (they run one at a time, so it is over).
                // Reusing it as it is would let its age pass the "abandoned" limit mid-bind; replace it by a fresh claim
                // (by version: only that exact object goes). The same pod's claim from another replica may belong to a
                // bind still running there: it is judged like any other holder's, below.
                if (existing.ResourceVersion is null)
                {
                    return string.Empty;
                }

                await api.ReleaseClaimAsync(claim, existing.ResourceVersion, ct).ConfigureAwait(false);
                continue;
            }

            if (staleRemoved || existing.ResourceVersion is null || !await IsStaleAsync(existing, ct).ConfigureAwait(false))
            {
                return null;
            }

            // The holder is gone or never got bound: remove exactly that version (a precondition, so a claim made
            // meanwhile by someone else is never deleted), then try again.
            Log.StaleClaim(log, claim, existing.Holder.Namespace, existing.Holder.PodName);
            await api.ReleaseClaimAsync(claim, existing.ResourceVersion, ct).ConfigureAwait(false);
            staleRemoved = true;
        }

        return null;
    }

    /// <summary>A claim is stale when its pod is gone, was recreated, finished, is bound elsewhere, or was never bound in time.</summary>
    internal async Task<bool> IsStaleAsync(ClaimRecord claim, CancellationToken ct)
    {
        var holder = claim.Holder;
        var pod = await api.GetPodAsync(holder.Namespace, holder.PodName, ct).ConfigureAwait(false);
        if (pod is null || pod.Uid != holder.PodUid || pod.Phase is "Succeeded" or "Failed")
        {
            return true;
        }

        if (pod.NodeName is not null)
        {
            // Bound: the claim is live only if it is on that node and for a GPU the pod's assignment names.
            return pod.NodeName != holder.Node
                || (pod.Annotations.TryGetValue(SchedExtKeys.AssignedGpus, out var assigned) && AssignedGpus.TryParse(assigned, out var mask)
                    && holder.Gpu >= 0 && (mask & (1UL << holder.Gpu)) == 0);
        }

        return claim.Created is { } created && time.GetUtcNow() - created > AbandonedAfter;
    }

    /// <summary>Reads the pod back after a failure; never throws (see <see cref="PodReadBack"/>).</summary>
    private async Task<PodReadBack> TryGetPodAsync(string ns, string name)
    {
        using var read = new CancellationTokenSource(SideCallTimeout, time);
        try
        {
            return new PodReadBack(true, await api.GetPodAsync(ns, name, read.Token).ConfigureAwait(false));
        }
        catch (Exception)
        {
            return new PodReadBack(false, null);
        }
    }

    /// <summary>
    /// What reading a pod back told: <paramref name="Answered"/> is false when the API server could not be asked (an
    /// error, a timeout); with an answer, a null <paramref name="Pod"/> means the pod is gone.
    /// </summary>
    private readonly record struct PodReadBack(bool Answered, PodRecord? Pod);

    /// <summary>Releases an attempt's claims (by version) and its reservation; never throws.</summary>
    private async Task AbandonAsync(string node, string uid, List<HeldClaim> claims)
    {
        await ReleaseAsync(claims).ConfigureAwait(false);
        reservations.Release(node, uid);
    }

    /// <summary>
    /// Releases <paramref name="claims"/> with a token of its own (the request's may be spent), logging what fails;
    /// never throws. A claim left behind only blocks its GPU until the janitor finds it stale.
    /// </summary>
    private async Task ReleaseAsync(List<HeldClaim> claims)
    {
        using var release = new CancellationTokenSource(SideCallTimeout, time);
        foreach (var claim in claims)
        {
            try
            {
                // Only the version this pod created or reused: never someone else's newer claim of the same GPU.
                await api.ReleaseClaimAsync(claim.Name, string.IsNullOrEmpty(claim.Version) ? null : claim.Version, release.Token).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Includes the timeout: the rest are left to the janitor, as logged.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Log.UndoFailed(log, claim.Name, "claim", e.Message);
            }
        }
    }

    /// <summary>A claim this bind holds, with the version to delete on undo.</summary>
    private readonly record struct HeldClaim(string Name, string Version, int Gpu);

    private async Task<string?> BindOnlyAsync(string ns, string name, string uid, string node, CancellationToken ct)
    {
        try
        {
            await api.BindAsync(ns, name, uid, node, null, ct).ConfigureAwait(false);
            metrics.Bind("bound");
            return null;
        }
        catch (Exception e)
        {
            return Fail("error", $"binding pod {ns}/{name} to {node} failed: {e.Message}");
        }
    }

    private string Fail(string outcome, string error)
    {
        metrics.Bind(outcome);
        Log.BindFailed(log, error);
        return error;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "Bound {Namespace}/{Pod} to {Node} with GPUs {Gpus}")]
        public static partial void Bound(ILogger logger, string @namespace, string pod, string node, string gpus);

        [LoggerMessage(EventId = 201, Level = LogLevel.Warning, Message = "Bind failed: {Error}")]
        public static partial void BindFailed(ILogger logger, string error);

        [LoggerMessage(EventId = 202, Level = LogLevel.Information, Message = "GPU mask {Gpus} on {Node} for {Namespace}/{Pod} was claimed concurrently (attempt {Attempt}); choosing again")]
        public static partial void ClaimConflict(ILogger logger, string @namespace, string pod, string node, ulong gpus, int attempt);

        [LoggerMessage(EventId = 203, Level = LogLevel.Information, Message = "Claim {Claim} held by {Namespace}/{Pod} is stale; removing it")]
        public static partial void StaleClaim(ILogger logger, string claim, string @namespace, string pod);

        [LoggerMessage(EventId = 204, Level = LogLevel.Warning, Message = "Undo of {Namespace}/{Pod} failed: {Error}; the janitor will clean up")]
        public static partial void UndoFailed(ILogger logger, string @namespace, string pod, string error);

        [LoggerMessage(EventId = 205, Level = LogLevel.Warning, Message = "Recording an event on {Namespace}/{Pod} failed: {Error}")]
        public static partial void EventFailed(ILogger logger, string @namespace, string pod, string error);

        [LoggerMessage(EventId = 206, Level = LogLevel.Warning, Message = "Binding {Namespace}/{Pod} to {Node} may have succeeded (the pod could not be read back); its claims are kept, and the janitor removes them if it never runs there")]
        public static partial void UndoKept(ILogger logger, string @namespace, string pod, string node);
    }
}
