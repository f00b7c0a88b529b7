using System.Text.Json;

namespace SchedExt.Extender.Protocol;

/// <summary>Parses the bind and preempt bodies (<c>ExtenderBindingArgs</c>, <c>ExtenderPreemptionArgs</c>).</summary>
internal static class SmallArgsReader
{
    private static readonly JsonReaderOptions Options = new() { MaxDepth = 64 };

    /// <summary>kube-scheduler's <c>ExtenderBindingArgs</c>: all four fields are required.</summary>
    public static BindingArgs ReadBinding(ReadOnlySpan<byte> body)
    {
        string? name = null, ns = null, uid = null, node = null;
        try
        {
            var reader = new Utf8JsonReader(body, isFinalBlock: true, new JsonReaderState(Options));
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new ProtocolException("ExtenderBindingArgs must be a JSON object");
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var field = JsonKeys.Is(in reader, "PodName"u8) ? 0
                    : JsonKeys.Is(in reader, "PodNamespace"u8) ? 1
                    : JsonKeys.Is(in reader, "PodUID"u8) ? 2
                    : JsonKeys.Is(in reader, "Node"u8) ? 3
                    : -1;
                JsonKeys.Value(ref reader);
                switch (field)
                {
                    case 0: name = JsonKeys.StringOrNull(ref reader, "PodName"); break;
                    case 1: ns = JsonKeys.StringOrNull(ref reader, "PodNamespace"); break;
                    case 2: uid = JsonKeys.StringOrNull(ref reader, "PodUID"); break;
                    case 3: node = JsonKeys.StringOrNull(ref reader, "Node"); break;
                    default: JsonKeys.Skip(ref reader); break;
                }
            }

            ExtenderArgsReader.EnsureComplete(ref reader);
        }
        catch (JsonException e)
        {
            throw new ProtocolException($"malformed JSON: {ExtenderArgsReader.FirstLine(e.Message)}", e);
        }
        catch (InvalidOperationException e)
        {
            throw ProtocolException.UndecodableString(e);
        }

        return new BindingArgs(
            Required(name, "PodName"),
            Required(ns, "PodNamespace"),
            Required(uid, "PodUID"),
            Required(node, "Node"));
    }

    private static string Required(string? value, string field) =>
        string.IsNullOrEmpty(value) ? throw new ProtocolException($"ExtenderBindingArgs.{field} is required") : value;

    /// <summary>kube-scheduler's <c>ExtenderPreemptionArgs</c>: the pod and, per node, the victims (full pods or UIDs).</summary>
    public static void ReadPreemption(VerbScratch scratch, ReadOnlySpan<byte> gpuResource, PreemptionArgs args)
    {
        try
        {
            var reader = new Utf8JsonReader(scratch.BodySpan, isFinalBlock: true, new JsonReaderState(Options));
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new ProtocolException("ExtenderPreemptionArgs must be a JSON object");
            }

            var victimFacts = new PodFacts();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (JsonKeys.Is(in reader, "Pod"u8))
                {
                    JsonKeys.Value(ref reader);
                    scratch.Pod.Read(ref reader, gpuResource, "Pod");
                }
                else if (JsonKeys.Is(in reader, "NodeNameToVictims"u8) || JsonKeys.Is(in reader, "NodeNameToMetaVictims"u8))
                {
                    var meta = JsonKeys.Is(in reader, "NodeNameToMetaVictims"u8);
                    JsonKeys.Value(ref reader);
                    ReadVictimMap(ref reader, gpuResource, args, victimFacts, meta);
                }
                else
                {
                    JsonKeys.Value(ref reader);
                    JsonKeys.Skip(ref reader);
                }
            }

            ExtenderArgsReader.EnsureComplete(ref reader);
            if (scratch.Pod.Name is null)
            {
                throw new ProtocolException("ExtenderPreemptionArgs.Pod is missing or has no metadata.name");
            }
        }
        catch (JsonException e)
        {
            throw new ProtocolException($"malformed JSON: {ExtenderArgsReader.FirstLine(e.Message)}", e);
        }
        catch (InvalidOperationException e)
        {
            throw ProtocolException.UndecodableString(e);
        }
    }

    private static void ReadVictimMap(ref Utf8JsonReader reader, ReadOnlySpan<byte> gpuResource, PreemptionArgs args, PodFacts facts, bool meta)
    {
        var map = meta ? "NodeNameToMetaVictims" : "NodeNameToVictims";
        if (!JsonKeys.ObjectOrNull(in reader, map))
        {
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var node = reader.GetString()!;
            JsonKeys.Value(ref reader);
            if (!JsonKeys.ObjectOrNull(in reader, $"{map}[{node}]"))
            {
                continue;
            }

            // Full-pod and meta maps may both be present; the meta form (nodeCacheCapable) wins for a node named in both.
            var victims = new NodeVictims(node);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (JsonKeys.Is(in reader, "Pods"u8))
                {
                    JsonKeys.Value(ref reader);
                    if (!JsonKeys.ArrayOrNull(in reader, $"{map}[{node}].Pods"))
                    {
                        continue;
                    }

                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        if (meta)
                        {
                            victims.Pods.Add(ReadMetaPod(ref reader, $"{map}[{node}].Pods[]"));
                        }
                        else
                        {
                            facts.Read(ref reader, gpuResource, $"{map}[{node}].Pods[]");
                            // A full pod without a UID (upstream's own compatibility sample has none) cannot be named back to
                            // kube-scheduler; its node is dropped from the answer.
                            victims.Pods.Add(new Victim(facts.Uid ?? string.Empty));
                        }
                    }
                }
                else if (JsonKeys.Is(in reader, "NumPDBViolations"u8))
                {
                    JsonKeys.Value(ref reader);
                    if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var n) && n >= 0)
                    {
                        victims.NumPdbViolations = n;
                    }
                    else if (reader.TokenType != JsonTokenType.Null)
                    {
                        throw new ProtocolException($"{map}[{node}].NumPDBViolations must be a non-negative integer");
                    }
                }
                else
                {
                    JsonKeys.Value(ref reader);
                    JsonKeys.Skip(ref reader);
                }
            }

            if (meta || !args.Nodes.ContainsKey(node))
            {
                args.Nodes[node] = victims;
            }
        }
    }

    private static Victim ReadMetaPod(ref Utf8JsonReader reader, string field)
    {
        JsonKeys.Expect(in reader, JsonTokenType.StartObject, field);
        string? uid = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isUid = JsonKeys.Is(in reader, "UID"u8);
            JsonKeys.Value(ref reader);
            if (isUid)
            {
                uid = JsonKeys.StringOrNull(ref reader, field + ".UID");
            }
            else
            {
                JsonKeys.Skip(ref reader);
            }
        }

        return new Victim(uid ?? throw new ProtocolException(field + ".UID is required"));
    }

}

/// <summary><c>ExtenderBindingArgs</c>.</summary>
internal sealed record BindingArgs(string PodName, string PodNamespace, string PodUid, string Node);

/// <summary>The victims kube-scheduler proposes per node.</summary>
internal sealed class PreemptionArgs
{
    public Dictionary<string, NodeVictims> Nodes { get; } = new(StringComparer.Ordinal);
}

/// <summary>Victims on one node.</summary>
internal sealed class NodeVictims(string node)
{
    public string Node { get; } = node;

    public List<Victim> Pods { get; } = [];

    public long NumPdbViolations { get; set; }
}

/// <summary>A victim pod, by UID (empty when a full pod was sent without one).</summary>
internal sealed record Victim(string Uid);
