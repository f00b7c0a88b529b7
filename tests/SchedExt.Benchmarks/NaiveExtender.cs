using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using SchedExt.Extender.Scheduling;
using SchedExt.Extender.State;
using SchedExt.Topology.Requests;

namespace SchedExt.Benchmarks;

/// <summary>
/// The comparison point (b): filter and prioritize written the straightforward way — the body deserialized into
/// KubernetesClient models with the client's own System.Text.Json options, reason strings built per node, and a
/// response DTO serialized with <see cref="JsonSerializer"/>. Same snapshot, planner and compiled-request cache as the
/// real extender, so the difference measured is the protocol edge.
/// </summary>
internal sealed class NaiveExtender(ClusterState state, PlacementPlanner planner, RequestCache requests, Reservations reservations)
{
    private static readonly JsonSerializerOptions KubernetesOptions = CaptureKubernetesOptions();
    private static readonly JsonSerializerOptions ReplyOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public async Task FilterAsync(HttpContext context)
    {
        var args = await ReadAsync(context);
        var result = new FilterResult();
        var request = RequestOf(args.Pod, out var group);
        var snapshot = state.Current;
        foreach (var name in args.NodeNames ?? [])
        {
            if (request is null)
            {
                result.NodeNames.Add(name);
                continue;
            }

            var node = snapshot.FindNode(name);
            if (node is null)
            {
                result.FailedAndUnresolvableNodes[name] = "node is not known to SchedExt: no nvidia.com/gpu allocatable, or not synced yet";
                continue;
            }

            var verdict = planner.Evaluate(requests.Get(request), node, snapshot, group, reservations.Reserved(name, snapshot));
            if (verdict.Feasible)
            {
                result.NodeNames.Add(name);
            }
            else
            {
                (verdict.Unresolvable ? result.FailedAndUnresolvableNodes : result.FailedNodes)[name] = verdict.ReasonText();
            }
        }

        await context.Response.WriteAsJsonAsync(result, ReplyOptions, context.RequestAborted);
    }

    public async Task PrioritizeAsync(HttpContext context)
    {
        var args = await ReadAsync(context);
        var request = RequestOf(args.Pod, out var group);
        var snapshot = state.Current;
        var result = new List<HostPriority>();
        foreach (var name in args.NodeNames ?? [])
        {
            var node = request is null ? null : snapshot.FindNode(name);
            var score = 0;
            if (node is not null)
            {
                var verdict = planner.Evaluate(requests.Get(request!), node, snapshot, group, reservations.Reserved(name, snapshot));
                score = verdict.Feasible ? verdict.ProtocolScore : 0;
            }

            result.Add(new HostPriority(name, score));
        }

        await context.Response.WriteAsJsonAsync(result, ReplyOptions, context.RequestAborted);
    }

    private static async Task<ExtenderArgs> ReadAsync(HttpContext context) =>
        await JsonSerializer.DeserializeAsync<ExtenderArgs>(context.Request.Body, KubernetesOptions, context.RequestAborted)
        ?? throw new InvalidOperationException("ExtenderArgs is null");

    /// <summary>The pod's GPU request from its container limits and schedext.io annotations; null for a pod without GPUs.</summary>
    private static GpuRequest? RequestOf(V1Pod? pod, out string? group)
    {
        group = null;
        var count = pod?.Spec?.Containers?.Sum(c => c.Resources?.Limits is { } limits && limits.TryGetValue(SchedExtKeys.GpuResource, out var q) ? q.ToInt64() : 0) ?? 0;
        if (count == 0)
        {
            return null;
        }

        var annotations = pod!.Metadata?.Annotations ?? new Dictionary<string, string>();
        var interconnect = Interconnect.Any;
        var nic = NicNeed.None;
        var machine = MachinePolicy.Any;
        var memory = 0;
        if (annotations.TryGetValue(SchedExtKeys.Interconnect, out var i) && !SchedExtKeys.TryParseInterconnect(i, out interconnect))
        {
            throw new InvalidOperationException("bad " + SchedExtKeys.Interconnect);
        }

        if (annotations.TryGetValue(SchedExtKeys.Rdma, out var r) && !SchedExtKeys.TryParseNicNeed(r, out nic))
        {
            throw new InvalidOperationException("bad " + SchedExtKeys.Rdma);
        }

        if (annotations.TryGetValue(SchedExtKeys.Machine, out var m) && !SchedExtKeys.TryParseMachinePolicy(m, out machine))
        {
            throw new InvalidOperationException("bad " + SchedExtKeys.Machine);
        }

        if (annotations.TryGetValue(SchedExtKeys.GpuMemory, out var mem) && !SchedExtKeys.TryParseMemoryMiB(mem, out memory))
        {
            throw new InvalidOperationException("bad " + SchedExtKeys.GpuMemory);
        }

        group = annotations.TryGetValue(SchedExtKeys.PlacementGroup, out var g) ? g : null;
        return new GpuRequest((int)count, interconnect, nic, machine, annotations.TryGetValue(SchedExtKeys.GpuProduct, out var glob) ? glob : null, memory);
    }

    private static JsonSerializerOptions CaptureKubernetesOptions()
    {
        JsonSerializerOptions? captured = null;
        KubernetesJson.AddJsonOptions(o => captured = o);
        return captured!;
    }

    /// <summary>kube-scheduler's ExtenderArgs; the wire keys are Go field names.</summary>
    private sealed class ExtenderArgs
    {
        [JsonPropertyName("Pod")]
        public V1Pod? Pod { get; set; }

        [JsonPropertyName("Nodes")]
        public V1NodeList? Nodes { get; set; }

        [JsonPropertyName("NodeNames")]
        public List<string>? NodeNames { get; set; }
    }

    /// <summary>kube-scheduler's ExtenderFilterResult.</summary>
    private sealed class FilterResult
    {
        public V1NodeList? Nodes { get; set; }

        public List<string> NodeNames { get; } = [];

        public Dictionary<string, string> FailedNodes { get; } = [];

        public Dictionary<string, string> FailedAndUnresolvableNodes { get; } = [];

        public string Error { get; set; } = string.Empty;
    }

    /// <summary>One entry of prioritize's HostPriorityList.</summary>
    private sealed record HostPriority(string Host, int Score);
}
