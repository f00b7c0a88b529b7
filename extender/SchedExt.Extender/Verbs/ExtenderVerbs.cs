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
    private ResourceName _gpuResource = new(options.CurrentValue.GpuResourceName, Encoding.UTF8.GetBytes(options.CurrentValue.GpuResourceName));

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
            var limit = options.CurrentValue.MaxRequestBodyBytes;
            if (context.Request.ContentLength > limit)
            {
                throw new ProtocolException($"request body of {context.Request.ContentLength} bytes exceeds the limit of {limit} bytes");
            }

            await RequestBody.ReadAsync(context.Request.BodyReader, scratch, limit, context.RequestAborted).ConfigureAwait(false);
            await handle(scratch, context.RequestAborted).ConfigureAwait(false);
            scratch.Writer.Flush();
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = scratch.Output.WrittenCount;
            await context.Response.BodyWriter.WriteAsync(scratch.Output.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
        }
        catch (InvalidOperationException e) when (e.Source == "System.Text.Json")
        {
            // e.g. a lone UTF-16 surrogate escape in a string: not JSON kube-scheduler sends, but still bad input.
            status = StatusCodes.Status400BadRequest;
            Log.BadRequest(log, verb, e.Message);
            if (!context.Response.HasStarted)
            {
                context.Response.StatusCode = status;
                context.Response.ContentType = "text/plain; charset=utf-8";
                await context.Response.WriteAsync("invalid JSON string: " + e.Message + "\n", context.RequestAborted).ConfigureAwait(false);
            }
        }
        catch (ProtocolException e)
        {
            status = StatusCodes.Status400BadRequest;
            Log.BadRequest(log, verb, e.Message);
            if (!context.Response.HasStarted)
            {
                context.Response.StatusCode = status;
                context.Response.ContentType = "text/plain; charset=utf-8";
                await context.Response.WriteAsync(e.Message + "\n", context.RequestAborted).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A defect, not bad input: answer 500 with the message so kube-scheduler's log says what happened.
            status = StatusCodes.Status500InternalServerError;
            Log.Failed(log, verb, e);
            if (!context.Response.HasStarted)
            {
                context.Response.StatusCode = status;
                context.Response.ContentType = "text/plain; charset=utf-8";
                await context.Response.WriteAsync("internal error: " + e.Message + "\n", context.RequestAborted).ConfigureAwait(false);
            }
        }
        finally
        {
            pool.Return(scratch);
            metrics.Duration(verb).Observe(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
            metrics.Requests.WithLabels(verb, status switch { 200 => "200", 400 => "400", _ => "500" }).Inc();
        }
    }

    private ReadOnlySpan<byte> GpuResource
    {
        get
        {
            // PERF: re-encoded only when the option changes.
            var current = options.CurrentValue.GpuResourceName;
            var cached = _gpuResource;
            if (!string.Equals(cached.Name, current, StringComparison.Ordinal))
            {
                cached = new ResourceName(current, Encoding.UTF8.GetBytes(current));
                _gpuResource = cached;
            }

            return cached.Utf8;
        }
    }

    private void Filter(VerbScratch s)
    {
        ExtenderArgsReader.Read(s, GpuResource);
        var w = s.Writer;
        var pod = s.Pod;
        pending?.Remember(pod);
        w.WriteStartObject();
        if (!ResolveRequest(s, out var compiled, out var group, out var error))
        {
            // Not a GPU pod (or an invalid one): every node passes, or the request's error is reported.
            WriteNodesEcho(s, all: true, null);
            w.WriteNull("FailedNodes");
            w.WriteNull("FailedAndUnresolvableNodes");
            w.WriteString("Error", error ?? string.Empty);
            w.WriteEndObject();
            return;
        }

        var snapshot = state.Current;
        var count = s.HasNodeNames ? s.NodeNames.Count : s.NodeItems.Count;
        var verdicts = s.Verdicts(count);
        for (var i = 0; i < count; i++)
        {
            verdicts[i] = Evaluate(s, i, compiled!, group, snapshot);
        }

        WriteNodesEcho(s, all: false, verdicts);
        Span<char> reason = stackalloc char[512];
        foreach (var unresolvable in (ReadOnlySpan<bool>)[false, true])
        {
            w.WriteStartObject(unresolvable ? "FailedAndUnresolvableNodes" : "FailedNodes");
            for (var i = 0; i < count; i++)
            {
                var v = verdicts[i];
                var isUnresolvable = v.Outcome switch
                {
                    Outcome.Unknown => false, // our watch may just be behind: let the scheduler try again later
                    Outcome.NoGpus => true,
                    _ => v.Verdict.Unresolvable,
                };
                if (v.Outcome == Outcome.Fits || isUnresolvable != unresolvable)
                {
                    continue;
                }

                if (v.Outcome == Outcome.NoGpus)
                {
                    WriteNameProperty(s, i, $"node has no {options.CurrentValue.GpuResourceName} allocatable");
                    continue;
                }

                if (v.Outcome == Outcome.Unknown)
                {
                    metrics.UnknownNodes.Inc();
                    WriteNameProperty(s, i, $"node is not known to SchedExt: no {options.CurrentValue.GpuResourceName} allocatable, or not synced yet");
                    continue;
                }

                metrics.Filtered(v.Verdict.Reason);
                _ = v.Verdict.TryFormatReason(reason, out var written);
                WriteNameProperty(s, i, reason[..written]);
            }

            w.WriteEndObject();
        }

        w.WriteString("Error", string.Empty);
        w.WriteEndObject();
    }

    private void Prioritize(VerbScratch s)
    {
        ExtenderArgsReader.Read(s, GpuResource);
        var w = s.Writer;
        var resolved = ResolveRequest(s, out var compiled, out var group, out _);
        var snapshot = state.Current;
        var count = s.HasNodeNames ? s.NodeNames.Count : s.NodeItems.Count;
        w.WriteStartArray();
        for (var i = 0; i < count; i++)
        {
            var score = 0;
            if (resolved)
            {
                var v = Evaluate(s, i, compiled!, group, snapshot);
                score = v.Outcome == Outcome.Fits ? v.Verdict.ProtocolScore : 0;
            }

            w.WriteStartObject();
            w.WritePropertyName("Host"u8);
            WriteNameValue(s, i);
            w.WriteNumber("Score"u8, score);
            w.WriteEndObject();
        }

        w.WriteEndArray();
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
        foreach (var (nodeName, victims) in args.Nodes)
        {
            if (resolved)
            {
                // kube-scheduler's victims are already minimal for every resource it counts (each one failed its
                // "reprieve"), including CPU and memory we cannot see; an extender may only keep or drop them. So the
                // question per node is whether evicting them really frees a valid GPU set: if not, the node is dropped.
                var node = snapshot.FindNode(nodeName);
                if (node is null)
                {
                    continue;
                }

                var freed = node.FreeGpus & ~reservations.Reserved(nodeName, snapshot);
                foreach (var victim in victims.Pods)
                {
                    freed |= VictimSelection.GpusOf(snapshot, nodeName, victim.Uid, victim.AssignedGpus);
                }

                if (!planner.EvaluateWithFree(compiled!, node, snapshot, group, freed).Feasible)
                {
                    continue;
                }
            }

            w.WriteStartObject(nodeName);
            w.WriteStartArray("Pods");
            foreach (var victim in victims.Pods)
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

    private NodeOutcome Evaluate(VerbScratch s, int i, CompiledRequest compiled, string? group, ClusterSnapshot snapshot)
    {
        if (s.HasNodeNames)
        {
            var node = snapshot.FindNode(s.NameChars(s.NodeNames[i]));
            if (node is null)
            {
                return new NodeOutcome(Outcome.Unknown, default);
            }

            var verdict = planner.Evaluate(compiled, node, snapshot, group, reservations.Reserved(node.Name, snapshot));
            return new NodeOutcome(verdict.Feasible ? Outcome.Fits : Outcome.Fails, verdict);
        }

        // Full-Nodes mode: the node's hardware and labels come from the request; its GPUs in use from the pods we watch.
        var name = s.NodeItemNames[i];
        var info = ReadNode(s, i);
        if (info is null)
        {
            return new NodeOutcome(Outcome.NoGpus, default);
        }

        var state = new NodeState(info, snapshot.UsedOn(name) & info.Shape.AllGpus);
        var v = planner.Evaluate(compiled, state, snapshot, group, reservations.Reserved(name, snapshot));
        return new NodeOutcome(v.Feasible ? Outcome.Fits : Outcome.Fails, v);
    }

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

    /// <summary>Writes node <paramref name="i"/>'s name as a JSON string value; PERF: NodeNames are copied as the UTF-8 they arrived in.</summary>
    private static void WriteNameValue(VerbScratch s, int i)
    {
        if (!s.HasNodeNames)
        {
            s.Writer.WriteStringValue(s.NodeItemNames[i]);
        }
        else if (s.NodeNames[i] is { Escaped: false } raw)
        {
            s.Writer.WriteStringValue(s.Slice(raw));
        }
        else
        {
            s.Writer.WriteStringValue(s.NameChars(s.NodeNames[i]));
        }
    }

    /// <summary>Writes <c>"name": value</c> for node <paramref name="i"/> (a FailedNodes entry).</summary>
    private static void WriteNameProperty(VerbScratch s, int i, ReadOnlySpan<char> value)
    {
        if (!s.HasNodeNames)
        {
            s.Writer.WriteString(s.NodeItemNames[i], value);
        }
        else if (s.NodeNames[i] is { Escaped: false } raw)
        {
            s.Writer.WriteString(s.Slice(raw), value);
        }
        else
        {
            s.Writer.WriteString(s.NameChars(s.NodeNames[i]), value);
        }
    }

    /// <summary>Writes <c>Nodes</c> and <c>NodeNames</c>: the passing nodes in the form they were sent, the other form null.</summary>
    private static void WriteNodesEcho(VerbScratch s, bool all, NodeOutcome[]? verdicts)
    {
        var w = s.Writer;
        if (s.HasNodes && !s.HasNodeNames)
        {
            w.WriteStartObject("Nodes");
            w.WriteStartObject("metadata");
            w.WriteEndObject();
            w.WriteStartArray("items");
            for (var i = 0; i < s.NodeItems.Count; i++)
            {
                if (all || verdicts![i].Outcome == Outcome.Fits)
                {
                    w.WriteRawValue(s.Slice(s.NodeItems[i]), skipInputValidation: true);
                }
            }

            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteNull("NodeNames");
            return;
        }

        w.WriteNull("Nodes");
        w.WriteStartArray("NodeNames");
        for (var i = 0; i < s.NodeNames.Count; i++)
        {
            if (all || verdicts![i].Outcome == Outcome.Fits)
            {
                WriteNameValue(s, i);
            }
        }

        w.WriteEndArray();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 100, Level = LogLevel.Warning, Message = "Rejected {Verb} request: {Reason}")]
        public static partial void BadRequest(ILogger logger, string verb, string reason);

        [LoggerMessage(EventId = 101, Level = LogLevel.Error, Message = "{Verb} failed")]
        public static partial void Failed(ILogger logger, string verb, Exception exception);
    }
}

/// <summary>The GPU resource name and its UTF-8 bytes, swapped as one reference so concurrent requests never see a mix.</summary>
internal sealed record ResourceName(string Name, byte[] Utf8);

/// <summary>What filter concluded for one node.</summary>
internal enum Outcome : byte
{
    /// <summary>NodeNames mode: a name our snapshot does not hold.</summary>
    Unknown,
    Fits,
    Fails,

    /// <summary>Nodes mode: the node object sent has no managed GPUs.</summary>
    NoGpus,
}

/// <summary>One node's outcome and verdict, kept in a pooled array between filter's passes.</summary>
internal readonly record struct NodeOutcome(Outcome Outcome, NodeVerdict Verdict);
