using System.Text.Json;
using SchedExt.Topology.Requests;

namespace SchedExt.Extender.Protocol;

/// <summary>The few facts of a Pod the extender needs, read straight from the request JSON: identity, schedext.io annotations and GPU count.</summary>
internal sealed class PodFacts
{
    public string? Name { get; private set; }

    public string? Namespace { get; private set; }

    public string? Uid { get; private set; }

    /// <summary>Only the <c>schedext.io/</c> annotations; others are skipped without being materialised.</summary>
    public Dictionary<string, string> Annotations { get; } = new(StringComparer.Ordinal);

    /// <summary>GPUs requested, from the containers' limits (or requests), sidecars included; see <see cref="PodGpuTally"/>.</summary>
    public long GpuCount { get; private set; }

    /// <summary>True when any container names the managed GPU resource.</summary>
    public bool RequestsGpus { get; private set; }

    /// <summary>The pod's <c>spec.priority</c> (0 when absent, as for a pod without a PriorityClass).</summary>
    public int Priority { get; private set; }

    public string? Annotation(string key) => Annotations.GetValueOrDefault(key);

    /// <summary>Loads facts from an already-read pod (the binder's API read) instead of request JSON.</summary>
    public void Load(IReadOnlyDictionary<string, string> annotations, long gpuCount)
    {
        Reset();
        foreach (var (key, value) in annotations)
        {
            if (key.StartsWith(SchedExtKeys.Prefix, StringComparison.Ordinal))
            {
                Annotations[key] = value;
            }
        }

        GpuCount = gpuCount;
        RequestsGpus = gpuCount > 0;
    }

    public void Reset()
    {
        Name = Namespace = Uid = null;
        Annotations.Clear();
        GpuCount = 0;
        RequestsGpus = false;
        Priority = 0;
    }

    /// <summary>Reads a v1.Pod object at the reader's current StartObject token (null leaves the facts empty).</summary>
    public void Read(ref Utf8JsonReader reader, ReadOnlySpan<byte> gpuResource, string field)
    {
        Reset();
        if (!JsonKeys.ObjectOrNull(in reader, field))
        {
            return;
        }

        var tally = default(PodGpuTally);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (JsonKeys.Is(in reader, "metadata"u8))
            {
                JsonKeys.Value(ref reader);
                ReadMetadata(ref reader, field + ".metadata");
            }
            else if (JsonKeys.Is(in reader, "spec"u8))
            {
                JsonKeys.Value(ref reader);
                if (!JsonKeys.ObjectOrNull(in reader, field + ".spec"))
                {
                    continue;
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (JsonKeys.Is(in reader, "containers"u8))
                    {
                        JsonKeys.Value(ref reader);
                        ReadContainers(ref reader, gpuResource, ref tally, init: false, field + ".spec.containers");
                    }
                    else if (JsonKeys.Is(in reader, "initContainers"u8))
                    {
                        JsonKeys.Value(ref reader);
                        ReadContainers(ref reader, gpuResource, ref tally, init: true, field + ".spec.initContainers");
                    }
                    else if (JsonKeys.Is(in reader, "priority"u8))
                    {
                        JsonKeys.Value(ref reader);
                        Priority = reader.TokenType switch
                        {
                            JsonTokenType.Null => 0,
                            JsonTokenType.Number when reader.TryGetInt32(out var priority) => priority,
                            _ => throw new ProtocolException($"{field}.spec.priority must be a 32-bit integer"),
                        };
                    }
                    else
                    {
                        JsonKeys.Value(ref reader);
                        JsonKeys.Skip(ref reader);
                    }
                }
            }
            else
            {
                JsonKeys.Value(ref reader);
                JsonKeys.Skip(ref reader);
            }
        }

        GpuCount = tally.Total;
    }

    private void ReadMetadata(ref Utf8JsonReader reader, string field)
    {
        if (!JsonKeys.ObjectOrNull(in reader, field))
        {
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (JsonKeys.Is(in reader, "name"u8))
            {
                JsonKeys.Value(ref reader);
                Name = JsonKeys.StringOrNull(ref reader, field + ".name");
            }
            else if (JsonKeys.Is(in reader, "namespace"u8))
            {
                JsonKeys.Value(ref reader);
                Namespace = JsonKeys.StringOrNull(ref reader, field + ".namespace");
            }
            else if (JsonKeys.Is(in reader, "uid"u8))
            {
                JsonKeys.Value(ref reader);
                Uid = JsonKeys.StringOrNull(ref reader, field + ".uid");
            }
            else if (JsonKeys.Is(in reader, "annotations"u8))
            {
                JsonKeys.Value(ref reader);
                ReadAnnotations(ref reader, field + ".annotations");
            }
            else
            {
                JsonKeys.Value(ref reader);
                JsonKeys.Skip(ref reader);
            }
        }
    }

    private void ReadAnnotations(ref Utf8JsonReader reader, string field)
    {
        if (!JsonKeys.ObjectOrNull(in reader, field))
        {
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            // PERF: only schedext.io/ keys become strings; a pod's other annotations are skipped in place.
            var ours = !reader.ValueIsEscaped && reader.ValueSpan.StartsWith("schedext.io/"u8);
            var key = ours ? reader.GetString()! : null;
            JsonKeys.Value(ref reader);
            if (key is null)
            {
                if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.Null))
                {
                    throw new ProtocolException($"{field} values must be strings");
                }

                continue;
            }

            var value = JsonKeys.StringOrNull(ref reader, $"{field}[{key}]");
            if (value is not null)
            {
                Annotations[key] = value;
            }
        }
    }

    private void ReadContainers(ref Utf8JsonReader reader, ReadOnlySpan<byte> gpuResource, ref PodGpuTally tally, bool init, string field)
    {
        if (!JsonKeys.ArrayOrNull(in reader, field))
        {
            return;
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (!JsonKeys.ObjectOrNull(in reader, field + "[]"))
            {
                continue;
            }

            long limit = -1, request = -1;
            var restartable = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (init && JsonKeys.Is(in reader, "restartPolicy"u8))
                {
                    // A sidecar ("Always") keeps running beside the app containers; see PodGpuTally.
                    JsonKeys.Value(ref reader);
                    restartable = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("Always"u8);
                    JsonKeys.Skip(ref reader);
                    continue;
                }

                if (!JsonKeys.Is(in reader, "resources"u8))
                {
                    JsonKeys.Value(ref reader);
                    JsonKeys.Skip(ref reader);
                    continue;
                }

                JsonKeys.Value(ref reader);
                if (!JsonKeys.ObjectOrNull(in reader, field + "[].resources"))
                {
                    continue;
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isLimits = JsonKeys.Is(in reader, "limits"u8);
                    var isRequests = !isLimits && JsonKeys.Is(in reader, "requests"u8);
                    JsonKeys.Value(ref reader);
                    if (!isLimits && !isRequests)
                    {
                        JsonKeys.Skip(ref reader);
                        continue;
                    }

                    var amount = ReadResourceList(ref reader, gpuResource, field + (isLimits ? "[].resources.limits" : "[].resources.requests"));
                    if (isLimits)
                    {
                        limit = amount;
                    }
                    else
                    {
                        request = amount;
                    }
                }
            }

            var count = PodGpuTally.ContainerCount(limit >= 0 ? limit : null, request >= 0 ? request : null);
            if (init)
            {
                tally.AddInitContainer(count, restartable);
            }
            else
            {
                tally.AddContainer(count);
            }
        }
    }

    private long ReadResourceList(ref Utf8JsonReader reader, ReadOnlySpan<byte> gpuResource, string field)
    {
        long found = -1;
        if (!JsonKeys.ObjectOrNull(in reader, field))
        {
            return found;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var match = !reader.ValueIsEscaped && reader.ValueSpan.SequenceEqual(gpuResource);
            JsonKeys.Value(ref reader);
            if (!match)
            {
                JsonKeys.Skip(ref reader);
                continue;
            }

            RequestsGpus = true;
            found = reader.TokenType switch
            {
                JsonTokenType.String when TryParseCount(reader.ValueSpan, out var n) => n,
                JsonTokenType.Number when reader.TryGetInt64(out var n) && n >= 0 => n,
                _ => throw new ProtocolException($"{field}[{System.Text.Encoding.UTF8.GetString(gpuResource)}] must be a whole number of GPUs"),
            };
        }

        return found;
    }

    private static bool TryParseCount(ReadOnlySpan<byte> quantity, out long count) =>
        System.Buffers.Text.Utf8Parser.TryParse(quantity, out count, out var consumed) && consumed == quantity.Length && count >= 0;

    /// <summary>Turns the pod's annotations and GPU count into a request, or explains which annotation is wrong.</summary>
    public bool TryGetRequest(out GpuRequest? request, out string? placementGroup, out string? error)
    {
        request = null;
        placementGroup = Annotation(SchedExtKeys.PlacementGroup);
        error = null;
        if (GpuCount is < 1 or > Topology.Model.NodeTopology.MaxGpus)
        {
            error = GpuCount == 0 ? null : $"pod requests {GpuCount} GPUs; at most {Topology.Model.NodeTopology.MaxGpus} fit on one node";
            return false;
        }

        var interconnect = Interconnect.Any;
        var nic = NicNeed.None;
        var machine = MachinePolicy.Any;
        var memory = 0;
        if (Annotation(SchedExtKeys.Interconnect) is { } i && !SchedExtKeys.TryParseInterconnect(i, out interconnect))
        {
            error = $"invalid {SchedExtKeys.Interconnect} '{i}': expected nvlink, pcie-switch, numa or any";
        }
        else if (Annotation(SchedExtKeys.Rdma) is { } r && !SchedExtKeys.TryParseNicNeed(r, out nic))
        {
            error = $"invalid {SchedExtKeys.Rdma} '{r}': expected required, preferred or none";
        }
        else if (Annotation(SchedExtKeys.Machine) is { } m && !SchedExtKeys.TryParseMachinePolicy(m, out machine))
        {
            error = $"invalid {SchedExtKeys.Machine} '{m}': expected bare-metal, vm, preferred-bare-metal, preferred-vm or any";
        }
        else if (Annotation(SchedExtKeys.GpuMemory) is { } mem && !SchedExtKeys.TryParseMemoryMiB(mem, out memory))
        {
            error = $"invalid {SchedExtKeys.GpuMemory} '{mem}': expected a size such as 80Gi or 40960Mi";
        }

        if (error is not null)
        {
            return false;
        }

        // Trimmed like the other request annotations: a stray space from templating must not make every node unresolvable.
        var glob = Annotation(SchedExtKeys.GpuProduct)?.Trim();
        request = new GpuRequest((int)GpuCount, interconnect, nic, machine, string.IsNullOrEmpty(glob) ? null : glob, memory);
        return true;
    }
}
