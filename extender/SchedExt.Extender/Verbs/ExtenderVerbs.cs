using System.Text;
using k8s;
using k8s.Models;
using Microsoft.Extensions.ObjectPool;
using Microsoft.Extensions.Options;
using SchedExt.Extender.Binding;
using SchedExt.Extender.Metrics;
using SchedExt.Extender.Protocol;
using SchedExt.Extender.Scheduling;
using SchedExt.Extender.State;
using SchedExt.Topology.Search;

namespace SchedExt.Extender.Verbs;

/// <summary>
/// The four kube-scheduler verbs over HTTP. Bodies are buffered from the request <see cref="System.IO.Pipelines.PipeReader"/>,
/// parsed with <see cref="System.Text.Json.Utf8JsonReader"/> and answered with a pooled <see cref="System.Text.Json.Utf8JsonWriter"/>;
/// a body that is not what kube-scheduler sends is answered 400 and changes nothing.
/// </summary>
internal sealed partial class ExtenderVerbs(
    ClusterState state,
    PlacementPlanner planner,
    RequestCache requests,
    Reservations reservations,
    Binder binder,
    ObjectPool<VerbScratch> pool,
    IOptionsMonitor<ExtenderOptions> options,
    ExtenderMetrics metrics,
    INodeInfoReader nodeReader,
    ILogger<ExtenderVerbs> log,
    PendingPods? pending = null)
{
    /// <summary>The request was aborted by the caller before an answer (nginx's convention; never sent).</summary>
    private const int StatusClientClosed = 499;

    internal const string NotSynced = "SchedExt has not yet read the cluster's nodes and pods (starting up); retry";

    private ResourceName _gpuResource = new(options.CurrentValue.GpuResourceName);

    public Task FilterAsync(HttpContext context) => RunAsync(context, ExtenderMetrics.VerbFilter, (s, _) =>
    {
        Filter(s);
        return Task.CompletedTask;
    });

    public Task PrioritizeAsync(HttpContext context) => RunAsync(context, ExtenderMetrics.VerbPrioritize, (s, _) =>
    {
        Prioritize(s);
        return Task.CompletedTask;
    });

    public Task BindAsync(HttpContext context) => RunAsync(context, ExtenderMetrics.VerbBind, BindAsync);

    public Task PreemptAsync(HttpContext context) => RunAsync(context, ExtenderMetrics.VerbPreempt, (s, _) =>
    {
        Preempt(s);
        return Task.CompletedTask;
    });

    private async Task RunAsync(HttpContext context, string verb, Func<VerbScratch, CancellationToken, Task> handle)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var scratch = pool.Get();
        var status = StatusCodes.Status200OK;
        try
        {
            if (options.CurrentValue.VerbsFromLoopbackOnly && context.Connection.RemoteIpAddress is { } caller && !System.Net.IPAddress.IsLoopback(caller))
            {
                // The verbs act with the extender's cluster-wide rights (bind creates Bindings): only kube-scheduler in
                // this pod may call them. Health and metrics stay reachable from anywhere.
                status = await AnswerTextAsync(context, StatusCodes.Status403Forbidden, $"the {verb} verb answers only callers on this pod's loopback (SchedExt:Extender:VerbsFromLoopbackOnly); {caller} is not one").ConfigureAwait(false);
                return;
            }

            var limit = options.CurrentValue.MaxRequestBodyBytes;
            if (context.Request.ContentLength > limit)
            {
                throw new ProtocolException($"request body of {context.Request.ContentLength} bytes exceeds the limit of {limit} bytes");
            }

            // Filter and prioritize read and resolve the candidate names as they arrive; bind and preempt have none.
            var early = verb is ExtenderMetrics.VerbFilter or ExtenderMetrics.VerbPrioritize ? state.Current : null;
            await RequestBody.ReadAsync(context.Request.BodyReader, scratch, limit, context.RequestAborted, early).ConfigureAwait(false);
            await handle(scratch, context.RequestAborted).ConfigureAwait(false);
            scratch.Writer.Flush();
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = scratch.Output.WrittenCount;
            await context.Response.BodyWriter.WriteAsync(scratch.Output.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (context.RequestAborted.IsCancellationRequested || e is IOException and not BadHttpRequestException)
        {
            // The caller went away (the body read fails or is cancelled): nothing to answer, and nothing was changed by
            // filter, prioritize or preempt (bind runs on its own deadline). Counted apart from answered requests. An
            // IOException comes only from the connection here (the body read or the reply write): a caller that closes
            // with unread data in its socket resets it, and Kestrel may cancel RequestAborted only later. Not
            // BadHttpRequestException, an IOException too: a body the server refuses is answered below.
            status = StatusClientClosed;
        }
        catch (ProtocolException e)
        {
            status = StatusCodes.Status400BadRequest;
            Log.BadRequest(log, verb, e.Message);
            status = await AnswerTextAsync(context, status, e.Message).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e)
        {
            // The server could not read the request: the body ended before its Content-Length (the caller closed its
            // side), a malformed chunk, or a body over the server's own limit. Kestrel closes the connection of a
            // caller that went away before throwing, but cancels RequestAborted later, on the thread pool — so the
            // answer tells the two apart: one that cannot be delivered counts as 499.
            status = await AnswerTextAsync(context, e.StatusCode, e.Message).ConfigureAwait(false);
            if (status != StatusClientClosed)
            {
                Log.BadRequest(log, verb, e.Message);
            }
        }
        catch (Exception e)
        {
            // A defect, not bad input (a cancellation the caller did not ask for included, e.g. a client timeout; an
            // aborted caller was handled first): answer 500 with the message so kube-scheduler's log says what happened.
            // Counted as 500 even when the answer cannot be delivered: the log names the defect, the metric must too.
            status = StatusCodes.Status500InternalServerError;
            Log.Failed(log, verb, e);
            await AnswerTextAsync(context, status, "internal error: " + e.Message).ConfigureAwait(false);
        }
        finally
        {
            pool.Return(scratch);
            metrics.Duration(verb).Observe(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
            metrics.Requests.WithLabels(verb, StatusLabel(status)).Inc();
        }
    }

    private static string StatusLabel(int status) => status switch
    {
        200 => "200",
        400 => "400",
        403 => "403",
        StatusClientClosed => "499",
        500 => "500",
        _ => status.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>
    /// Answers <paramref name="status"/> with one line of plain text, unless the reply has already started. Returns
    /// <paramref name="status"/>, or 499 when the connection is already closed (nothing can be delivered).
    /// </summary>
    private static async Task<int> AnswerTextAsync(HttpContext context, int status, string text)
    {
        if (context.Response.HasStarted)
        {
            return status;
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        try
        {
            var result = await context.Response.BodyWriter.WriteAsync(Encoding.UTF8.GetBytes(text + "\n"), context.RequestAborted).ConfigureAwait(false);
            return result.IsCompleted ? StatusClientClosed : status;
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return StatusClientClosed;
        }
    }

    private ReadOnlySpan<byte> GpuResource => Resource.Utf8;

    private ResourceName Resource
    {
        get
        {
            // PERF: re-encoded only when the option changes.
            var current = options.CurrentValue.GpuResourceName;
            var cached = _gpuResource;
            if (!string.Equals(cached.Name, current, StringComparison.Ordinal))
            {
                cached = new ResourceName(current);
                _gpuResource = cached;
            }

            return cached;
        }
    }

    /// <summary>Filter over a request already in <paramref name="s"/>, reply left in its writer (internal for the benchmarks).</summary>
    internal void Filter(VerbScratch s)
    {
        ExtenderArgsReader.Read(s, GpuResource);
        var w = s.Writer;
        var pod = s.Pod;
        pending?.Remember(pod);
        w.WriteStartObject();
        var count = s.HasNodeNames ? s.NodeNames.Count : s.NodeItems.Count;
        var passing = s.Passing;
        passing.Begin((byte)'[');
        if (!ResolveRequest(s, out var compiled, out var group, out var error))
        {
            // Not a GPU pod (or an invalid one): every node passes, or the request's error is reported.
            for (var i = 0; i < count; i++)
            {
                AddPassing(s, i);
            }

            WriteWithoutFailures(s, error ?? string.Empty);
            return;
        }

        var snapshot = state.Current;
        if (!snapshot.Synced)
        {
            // Before the first full list (a restarted extender next to a running kube-scheduler) every node would look
            // unknown. Rejected nodes would leave the pod unschedulable until the next cluster event of any kind
            // (kube-scheduler requeues pods an extender rejected on every event since 1.28, kubernetes#122022) or, in a
            // quiet cluster, its periodic flush (5 minutes); an Error sends it to the scheduler's backoff queue, so it is
            // tried again within seconds.
            WriteWithoutFailures(s, NotSynced);
            return;
        }

        // PERF: one pass over the candidates writes all three lists; rejections are counted per reason and added to
        // the metrics once per request.
        var placement = snapshot.Group(group);
        var resource = Resource;
        var failed = s.Failed;
        var unresolvable = s.Unresolvable;
        failed.Begin((byte)'{');
        unresolvable.Begin((byte)'{');
        Span<int> rejected = stackalloc int[256];
        var unknown = 0;
        var positions = ResolvePositions(s, snapshot);
        for (var i = 0; i < count; i++)
        {
            var outcome = Evaluate(s, i, positions, compiled!, placement, snapshot, out var verdict);
            switch (outcome)
            {
                case Outcome.Fits:
                    AddPassing(s, i);
                    break;
                case Outcome.Fails or Outcome.HeldUnrecorded:
                    // HeldUnrecorded is never unresolvable (see Failed): it lands in FailedNodes with its own text.
                    rejected[(byte)verdict.Reason]++;
                    (verdict.Unresolvable ? unresolvable : failed).Property(RawName(s, i), outcome == Outcome.HeldUnrecorded ? resource.UnrecordedHolder : s.Reasons.Get(verdict));
                    break;
                case Outcome.Unknown:
                    // Our watch may just be behind: not unresolvable, so the scheduler tries again later.
                    unknown++;
                    failed.Property(RawName(s, i), resource.UnknownNode);
                    break;
                default:
                    unresolvable.Property(RawName(s, i), resource.NoGpus);
                    break;
            }
        }

        WriteNodes(s);
        failed.End((byte)'}');
        unresolvable.End((byte)'}');
        w.WritePropertyName("FailedNodes"u8);
        w.WriteRawValue(failed.Written, skipInputValidation: true);
        w.WritePropertyName("FailedAndUnresolvableNodes"u8);
        w.WriteRawValue(unresolvable.Written, skipInputValidation: true);
        w.WriteString("Error", string.Empty);
        w.WriteEndObject();
        for (var r = 0; r < rejected.Length; r++)
        {
            if (rejected[r] > 0)
            {
                metrics.Filtered((Infeasibility)r, rejected[r]);
            }
        }

        if (unknown > 0)
        {
            metrics.UnknownNodes.Inc(unknown);
        }
    }

    /// <summary>Prioritize over a request already in <paramref name="s"/> (internal for the benchmarks).</summary>
    internal void Prioritize(VerbScratch s)
    {
        ExtenderArgsReader.Read(s, GpuResource);
        var resolved = ResolveRequest(s, out var compiled, out var group, out _);
        var snapshot = state.Current;
        var placement = resolved ? snapshot.Group(group) : null;
        var count = s.HasNodeNames ? s.NodeNames.Count : s.NodeItems.Count;
        var positions = resolved ? ResolvePositions(s, snapshot) : default;
        var f = s.Passing;
        f.Begin((byte)'[');
        for (var i = 0; i < count; i++)
        {
            var score = 0;
            if (resolved && Evaluate(s, i, positions, compiled!, placement, snapshot, out var verdict) == Outcome.Fits)
            {
                score = verdict.ProtocolScore;
            }

            f.HostPriority(RawName(s, i), score);
        }

        f.End((byte)']');
        s.Writer.WriteRawValue(f.Written, skipInputValidation: true);
    }

    private async Task BindAsync(VerbScratch s, CancellationToken cancellationToken)
    {
        var args = SmallArgsReader.ReadBinding(s.BodySpan);
        var error = await binder.BindAsync(args.PodNamespace, args.PodName, args.PodUid, args.Node, cancellationToken).ConfigureAwait(false);
        var w = s.Writer;
        w.WriteStartObject();
        w.WriteString("Error", error ?? string.Empty);
        w.WriteEndObject();
        if (error is null)
        {
            pending?.Forget(args.PodNamespace, args.PodName);
        }
    }

    private void Preempt(VerbScratch s)
    {
        var args = new PreemptionArgs();
        SmallArgsReader.ReadPreemption(s, GpuResource, args);
        var w = s.Writer;
        var resolved = ResolveRequest(s, out var compiled, out var group, out _);
        var snapshot = state.Current;
        w.WriteStartObject();
        w.WriteStartObject("NodeNameToMetaVictims");
        ILookup<string, PodAllocation>? onNode = null;
        foreach (var (nodeName, victims) in args.Nodes)
        {
            // kube-scheduler looks every returned UID up among the node's pods: a victim sent without one (a full pod
            // with no metadata.uid) cannot be named back, and answering "" would fail the whole preemption.
            if (victims.Pods.Exists(static v => v.Uid.Length == 0))
            {
                continue;
            }

            IReadOnlyList<Victim> chosen = victims.Pods;
            if (resolved)
            {
                var node = snapshot.FindNode(nodeName);
                if (node is null)
                {
                    continue;
                }

                onNode ??= snapshot.Allocations.Values.ToLookup(a => a.Node, StringComparer.Ordinal);
                if (ChooseVictims(compiled!, node, snapshot, group, onNode[nodeName], victims.Pods, s.Pod.Priority) is not { Count: > 0 } found)
                {
                    // No set helps, or none is needed (the pod fits as is: the scheduler will place it on a later try;
                    // an empty victim list fails the whole preemption in kube-scheduler without kubernetes#135486).
                    continue;
                }

                chosen = found;
            }

            w.WriteStartObject(nodeName);
            w.WriteStartArray("Pods");
            foreach (var victim in chosen)
            {
                w.WriteStartObject();
                w.WriteString("UID", victim.Uid);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteNumber("NumPDBViolations", victims.NumPdbViolations);
            w.WriteEndObject();
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>Most victim sets <see cref="ChooseVictims"/> tries on one node before giving the node up.</summary>
    private const int MaxVictimSetsTried = 4096;

    /// <summary>
    /// The victims whose eviction frees a valid GPU set for the pod on <paramref name="node"/>, or null when none does.
    /// </summary>
    /// <remarks>
    /// kube-scheduler's victims (<paramref name="given"/>) are already minimal for every resource it counts (each one
    /// failed its "reprieve"), including CPU and memory the extender cannot see, so none of them is taken away. But it
    /// picks them by count and priority, not by which GPUs they hold: when they free the wrong GPUs (an NVLink quad needs
    /// 0-3, they free 0, 1 and 4), or when it sends a node with no victims because only the extender rejected it, the
    /// fewest more pods of lower priority than the preemptor that do free a set are added, of the lowest priorities
    /// (kube-scheduler evicts any pod of the node the answer names). What is free afterwards is what no remaining pod
    /// holds (a pod holding GPUs without a recorded assignment keeps the whole node) and no other bind in flight has
    /// reserved. Added victims are not counted against PodDisruptionBudgets: the scheduler's count is passed on.
    /// </remarks>
    private List<Victim>? ChooseVictims(CompiledRequest compiled, NodeState node, ClusterSnapshot snapshot, string? group, IEnumerable<PodAllocation> holders, List<Victim> given, int priority)
    {
        // Other binds in flight keep what they reserved; the scheduler's victims' own reservations count as freed. Pods
        // added below are in the snapshot, whose reservations are already gone (Reservations drops those it shows).
        var reserved = reservations.Reserved(node.Name, snapshot, except: given);
        bool Frees(IReadOnlyList<Victim> victims)
        {
            var free = node.Info.Shape.AllGpus & ~VictimSelection.TakenWithout(holders, victims) & ~reserved;
            return planner.EvaluateWithFree(compiled, node, snapshot, group, free).Feasible;
        }

        if (Frees(given))
        {
            return given;
        }

        var extra = holders
            .Where(a => a.Priority < priority && (a.Gpus != 0 || a.UnassignedGpus > 0) && !VictimSelection.IsVictim(a.Uid, given))
            .OrderBy(a => a.Priority)
            .ThenBy(a => a.Uid, StringComparer.Ordinal)
            .ToList();
        var extraVictims = extra.Select(a => new Victim(a.Uid)).ToArray();
        // The fewest pods; among as many, the set whose highest priority is lowest, then whose priorities add up to least
        // (kube-scheduler's own order for choosing between preemption candidates).
        var tried = 0;
        var trial = new List<Victim>(given.Count + extra.Count);
        for (var size = 1; size <= extra.Count; size++)
        {
            int[]? best = null;
            (int Highest, long Sum) bestRank = default;
            foreach (var picked in VictimSelection.Combinations(extra.Count, size))
            {
                if (++tried > MaxVictimSetsTried)
                {
                    break;
                }

                // extra is sorted by priority and the indices ascend: the last picked is the highest.
                var rank = (Highest: extra[picked[^1]].Priority, Sum: picked.Sum(i => (long)extra[i].Priority));
                if (best is not null && rank.CompareTo(bestRank) >= 0)
                {
                    continue;
                }

                trial.Clear();
                trial.AddRange(given);
                trial.AddRange(picked.Select(i => extraVictims[i]));
                if (Frees(trial))
                {
                    (best, bestRank) = ([.. picked], rank);
                }
            }

            if (best is not null)
            {
                return [.. given, .. best.Select(i => extraVictims[i])];
            }

            if (tried > MaxVictimSetsTried)
            {
                return null;
            }
        }

        return null;
    }

    private bool ResolveRequest(VerbScratch s, out CompiledRequest? compiled, out string? group, out string? error)
    {
        compiled = null;
        var pod = s.Pod;
        if (!pod.RequestsGpus || !pod.TryGetRequest(out var request, out group, out error))
        {
            group = null;
            error = pod.RequestsGpus ? Error(pod) : null;
            return false;
        }

        compiled = requests.Get(request!);
        return true;
    }

    private static string? Error(PodFacts pod)
    {
        _ = pod.TryGetRequest(out _, out _, out var error);
        return error;
    }

    /// <summary>
    /// NodeNames mode with a name-indexed snapshot and no escaped names: every candidate's snapshot position, resolved
    /// in one pipelined pass (<see cref="ClusterSnapshot.ResolveAll"/>), or already resolved in this snapshot while the body
    /// arrived (<see cref="EarlyNames"/>); empty otherwise, and candidates are looked up one by one.
    /// </summary>
    private static ReadOnlySpan<int> ResolvePositions(VerbScratch s, ClusterSnapshot snapshot)
    {
        if (!s.HasNodeNames || s.AnyEscapedName || !snapshot.HasNameIndex)
        {
            return default;
        }

        var count = s.NodeNames.Count;
        var early = s.Early.PositionsFor(snapshot, count);
        if (!early.IsEmpty)
        {
            return early;
        }

        var (positions, hashes) = s.PositionArrays(count);
        snapshot.ResolveAll(new RawNodeNames(s), positions.AsSpan(0, count), hashes.AsSpan(0, count));
        return positions.AsSpan(0, count);
    }

    private Outcome Evaluate(VerbScratch s, int i, ReadOnlySpan<int> positions, CompiledRequest compiled, GroupPlacement? group, ClusterSnapshot snapshot, out NodeVerdict verdict)
    {
        if (!s.HasNodeNames)
        {
            return EvaluateNodeObject(s, i, compiled, group, snapshot, out verdict);
        }

        int at;
        if (!positions.IsEmpty)
        {
            // PERF: positions were resolved up front; the facts of a candidate a few places ahead are prefetched.
            at = positions[i];
            if (i + 8 < positions.Length && positions[i + 8] >= 0)
            {
                snapshot.PrefetchFacts(positions[i + 8]);
            }
        }
        else if (snapshot.HasNameIndex)
        {
            at = snapshot.IndexOf(s.NameUtf8(s.NodeNames[i]));
        }
        else
        {
            return EvaluateByName(s.NameUtf8(s.NodeNames[i]), compiled, group, snapshot, out verdict);
        }

        if (at < 0)
        {
            verdict = default;
            return Outcome.Unknown;
        }

        var reserved = reservations.Count == 0 ? 0 : reservations.Reserved(snapshot.NodeAt(at).Name, snapshot);
        verdict = planner.Evaluate(compiled, snapshot, at, group, reserved);
        // PERF: the flag sits beside the facts placement just read, not in the NodeState object (a cache miss per node).
        return verdict.Feasible ? Outcome.Fits : Failed(verdict, snapshot.FactsAt(at).HeldUnrecorded);
    }

    /// <summary>A snapshot without a name index (not one the cluster state publishes): look the node up by name.</summary>
    private Outcome EvaluateByName(ReadOnlySpan<byte> utf8, CompiledRequest compiled, GroupPlacement? group, ClusterSnapshot snapshot, out NodeVerdict verdict)
    {
        var node = snapshot.FindNode(utf8);
        if (node is null)
        {
            verdict = default;
            return Outcome.Unknown;
        }

        verdict = planner.Evaluate(compiled, node, group, reservations.Reserved(node.Name, snapshot));
        return verdict.Feasible ? Outcome.Fits : Failed(verdict, node.HeldUnrecorded);
    }

    /// <summary>Full-Nodes mode: the node's hardware and labels come from the request; its GPUs in use from the pods we watch.</summary>
    private Outcome EvaluateNodeObject(VerbScratch s, int i, CompiledRequest compiled, GroupPlacement? group, ClusterSnapshot snapshot, out NodeVerdict verdict)
    {
        var name = s.NodeItemNames[i];
        var info = ReadNode(s, i);
        if (info is null)
        {
            verdict = default;
            return Outcome.NoGpus;
        }

        var used = snapshot.UsedOn(name);
        var state = new NodeState(info, used & info.Shape.AllGpus, used == NodeState.AllHeld);
        verdict = planner.Evaluate(compiled, state, group, reservations.Reserved(name, snapshot));
        return verdict.Feasible ? Outcome.Fits : Failed(verdict, state.HeldUnrecorded);
    }

    /// <summary>
    /// A node that does not fit now: <see cref="Outcome.HeldUnrecorded"/> when a pod holds GPUs there that no assignment
    /// names (the state then counts every GPU as used, <see cref="NodeState.HeldUnrecorded"/>), so its reason says that rather than "0 free".
    /// </summary>
    private static Outcome Failed(in NodeVerdict verdict, bool heldUnrecorded) =>
        !verdict.Unresolvable && heldUnrecorded ? Outcome.HeldUnrecorded : Outcome.Fails;

    private NodeInfo? ReadNode(VerbScratch s, int i)
    {
        try
        {
            var node = KubernetesJson.Deserialize<V1Node>(Encoding.UTF8.GetString(s.Slice(s.NodeItems[i])));
            return nodeReader.Read(node);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new ProtocolException($"Nodes.items[{i}] is not a valid Node: {ExtenderArgsReader.FirstLine(e.Message)}", e);
        }
    }

    /// <summary>
    /// Node <paramref name="i"/>'s name as JSON string contents: in NodeNames mode the bytes as they arrived (escapes
    /// included), in Nodes mode the name read from the node object, escaped.
    /// </summary>
    private static ReadOnlySpan<byte> RawName(VerbScratch s, int i) =>
        s.HasNodeNames ? s.Slice(s.NodeNames[i]) : s.EscapeName(s.NodeItemNames[i]);

    /// <summary>Adds node <paramref name="i"/> to the passing list, in the form it was sent (a name, or the whole node object).</summary>
    private static void AddPassing(VerbScratch s, int i)
    {
        if (s.HasNodeNames)
        {
            s.Passing.String(s.Slice(s.NodeNames[i]));
        }
        else
        {
            s.Passing.Raw(s.Slice(s.NodeItems[i]));
        }
    }

    /// <summary>Ends a filter reply that rejects no node: the passing list as it stands, null failure maps, <paramref name="error"/>.</summary>
    private static void WriteWithoutFailures(VerbScratch s, string error)
    {
        var w = s.Writer;
        WriteNodes(s);
        w.WriteNull("FailedNodes");
        w.WriteNull("FailedAndUnresolvableNodes");
        w.WriteString("Error", error);
        w.WriteEndObject();
    }

    /// <summary>Writes <c>Nodes</c> and <c>NodeNames</c>: the passing list in the form the nodes were sent, the other form null.</summary>
    private static void WriteNodes(VerbScratch s)
    {
        var w = s.Writer;
        s.Passing.End((byte)']');
        if (s.HasNodes && !s.HasNodeNames)
        {
            w.WriteStartObject("Nodes");
            w.WriteStartObject("metadata");
            w.WriteEndObject();
            w.WritePropertyName("items"u8);
            w.WriteRawValue(s.Passing.Written, skipInputValidation: true);
            w.WriteEndObject();
            w.WriteNull("NodeNames");
            return;
        }

        w.WriteNull("Nodes");
        w.WritePropertyName("NodeNames"u8);
        w.WriteRawValue(s.Passing.Written, skipInputValidation: true);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 100, Level = LogLevel.Warning, Message = "Rejected {Verb} request: {Reason}")]
        public static partial void BadRequest(ILogger logger, string verb, string reason);

        [LoggerMessage(EventId = 101, Level = LogLevel.Error, Message = "{Verb} failed")]
        public static partial void Failed(ILogger logger, string verb, Exception exception);
    }
}

/// <summary>
/// The GPU resource name, its UTF-8 bytes and the filter reasons that name it (escaped JSON string contents), swapped
/// as one reference so concurrent requests never see a mix.
/// </summary>
internal sealed class ResourceName(string name)
{
    public string Name { get; } = name;

    public byte[] Utf8 { get; } = Encoding.UTF8.GetBytes(name);

    public byte[] UnknownNode { get; } = Escaped($"node is not known to SchedExt: no {name} allocatable, or not synced yet");

    public byte[] NoGpus { get; } = Escaped($"node has no {name} allocatable");

    public byte[] UnrecordedHolder { get; } = Escaped(
        "a pod on this node holds GPUs that no schedext.io/assigned-gpus names (placed by another scheduler, or its annotation is missing or malformed); which ones is unknown, so none are given out while it runs");

    private static byte[] Escaped(string text) =>
        System.Text.Json.JsonEncodedText.Encode(text, System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping).EncodedUtf8Bytes.ToArray();
}

/// <summary>What filter concluded for one node.</summary>
internal enum Outcome : byte
{
    /// <summary>NodeNames mode: a name our snapshot does not hold.</summary>
    Unknown,
    Fits,
    Fails,

    /// <summary>Nodes mode: the node object sent has no managed GPUs.</summary>
    NoGpus,

    /// <summary>Fails now (not for good) because a pod holds GPUs there that no assignment names: the node counts as full.</summary>
    HeldUnrecorded,
}
