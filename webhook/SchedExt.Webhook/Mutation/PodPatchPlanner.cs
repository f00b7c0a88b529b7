using System.Globalization;
using System.Text.Json;
using SchedExt.Topology.Requests;
using SchedExt.Webhook.Diagnostics;
using SchedExt.Webhook.Policy;

namespace SchedExt.Webhook.Mutation;

/// <summary>Writes the JSON Patch that turns the pod into what the resolved intent and the policy say: only what differs.</summary>
/// <remarks>
/// Every operation is checked against the pod as sent: a missing map or array is added whole, a present one gets
/// member or <c>/-</c> additions, a present differing scalar is replaced. Applying the patch to the pod and running the
/// planner again yields no operation (re-invocation is idempotent).
/// </remarks>
internal static class PodPatchPlanner
{
    private const string DefaultScheduler = "default-scheduler";

    /// <summary>Plans the patch; <paramref name="container"/> is the one whose device request may be written, -1 for none (several containers hold GPUs).</summary>
    public static void Plan(WebhookPolicy policy, PodDocument pod, ResolvedIntent intent, int container, JsonPatchWriter patch, List<AdmissionProblem> problems)
    {
        PlanLabels(policy, pod, intent, patch);
        PlanAnnotations(pod, intent, patch);
        if (container >= 0 && intent.Gpus is { } gpus)
        {
            if (policy.DeviceMode == DeviceRequestMode.ExtendedResource)
            {
                PlanDeviceLimit(policy, pod, container, gpus, intent.GpusEnforced, patch);
            }
            else
            {
                PlanResourceClaim(policy, pod, container, intent, patch, problems);
            }
        }

        PlanSchedulerName(policy, pod, patch);
        var machine = intent.MachinePolicy;
        var pools = PoolsFor(policy, machine);
        PlanTolerations(pod, pools, patch);
        PlanNodeAffinity(policy, pod, machine, patch);
    }

    private static void PlanLabels(WebhookPolicy policy, PodDocument pod, ResolvedIntent intent, JsonPatchWriter patch)
    {
        var wanted = new List<KeyValuePair<string, string>>();
        var enforce = (policy.Enforce & EnforcedFields.Labels) != 0;
        foreach (var label in policy.FleetLabels)
        {
            var value = KubernetesNames.ToLabelValue(label.Value.Render(intent));
            if (value.Length == 0 || (pod.Labels.TryGetValue(label.Key, out var current) && (current == value || !enforce)))
            {
                continue;
            }

            wanted.Add(new(label.Key, value));
        }

        SetMapEntries(patch, WebhookMetrics.PatchLabel, "/metadata/labels", pod.HasLabels, pod.Labels, wanted);
    }

    private static void PlanAnnotations(PodDocument pod, ResolvedIntent intent, JsonPatchWriter patch)
    {
        var wanted = new List<KeyValuePair<string, string>>();
        if (intent.Gpus is { } gpus && !intent.GpusAnnotationKept)
        {
            wanted.Add(new(SchedExtKeys.Gpus, gpus.ToString(CultureInfo.InvariantCulture)));
        }

        foreach (var (key, value) in new[]
        {
            (SchedExtKeys.Interconnect, intent.Interconnect),
            (SchedExtKeys.Rdma, intent.Rdma),
            (SchedExtKeys.Machine, intent.Machine),
            (SchedExtKeys.GpuProduct, intent.GpuProduct),
            (SchedExtKeys.GpuMemory, intent.GpuMemory),
            (SchedExtKeys.PlacementGroup, intent.PlacementGroup),
        })
        {
            if (value is { Value: not null, FromPod: false })
            {
                wanted.Add(new(key, value.Value));
            }
        }

        wanted.RemoveAll(kv => pod.Annotations.TryGetValue(kv.Key, out var current) && current == kv.Value);
        SetMapEntries(patch, WebhookMetrics.PatchAnnotation, "/metadata/annotations", pod.HasAnnotations, pod.Annotations, wanted);
    }

    private static void SetMapEntries(JsonPatchWriter patch, string kind, string mapPath, bool mapExists, IReadOnlyDictionary<string, string> current, List<KeyValuePair<string, string>> wanted)
    {
        if (wanted.Count == 0)
        {
            return;
        }

        if (!mapExists)
        {
            patch.Add(kind, mapPath, w =>
            {
                w.WriteStartObject();
                foreach (var (key, value) in wanted)
                {
                    w.WriteString(key, value);
                }

                w.WriteEndObject();
            });
            return;
        }

        foreach (var (key, value) in wanted)
        {
            patch.Set(kind, mapPath + "/" + JsonPatchWriter.Escape(key), current.ContainsKey(key), value);
        }
    }

    private static void PlanDeviceLimit(WebhookPolicy policy, PodDocument pod, int index, int gpus, bool enforced, JsonPatchWriter patch)
    {
        var container = pod.Container(index);
        var basePath = string.Create(CultureInfo.InvariantCulture, $"/spec/containers/{index}/resources");
        var count = gpus.ToString(CultureInfo.InvariantCulture);
        var resources = PodDocument.Child(container, "resources");
        if (resources is not { ValueKind: JsonValueKind.Object })
        {
            patch.Add(WebhookMetrics.PatchDeviceLimit, basePath, w => WriteQuantityMap(w, "limits", policy.ResourceName, count));
            return;
        }

        // The limit the pod ends up with: ours when it is added or enforced, else the one written (null: not a number).
        int? limit = gpus;
        var limits = PodDocument.Child(resources, "limits");
        if (limits is not { ValueKind: JsonValueKind.Object })
        {
            patch.Add(WebhookMetrics.PatchDeviceLimit, basePath + "/limits", w => WriteQuantity(w, policy.ResourceName, count));
        }
        else if (!limits.Value.TryGetProperty(policy.ResourceName, out var current))
        {
            patch.Set(WebhookMetrics.PatchDeviceLimit, basePath + "/limits/" + JsonPatchWriter.Escape(policy.ResourceName), exists: false, count);
        }
        else if (enforced && !(PodDocument.TryQuantity(current, out var n) && n == gpus))
        {
            patch.Set(WebhookMetrics.PatchDeviceLimit, basePath + "/limits/" + JsonPatchWriter.Escape(policy.ResourceName), exists: true, count);
        }
        else
        {
            // Left as written (warn mode keeps even an invalid count): the request must not be moved away from it.
            limit = PodDocument.TryQuantity(current, out var written) ? written : null;
        }

        // Extended resources must have request == limit; a differing request would be rejected by the API server.
        if (limit is { } target
            && PodDocument.Child(resources, "requests") is { ValueKind: JsonValueKind.Object } requests
            && requests.TryGetProperty(policy.ResourceName, out var requested)
            && !(PodDocument.TryQuantity(requested, out var r) && r == target))
        {
            patch.Set(WebhookMetrics.PatchDeviceLimit, basePath + "/requests/" + JsonPatchWriter.Escape(policy.ResourceName), exists: true, target.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static void PlanResourceClaim(WebhookPolicy policy, PodDocument pod, int index, ResolvedIntent intent, JsonPatchWriter patch, List<AdmissionProblem> problems)
    {
        var claim = policy.DraClaimName;
        var template = policy.DraClaimTemplate.Render(intent);
        var claims = PodDocument.Child(pod.Spec, "resourceClaims");
        var existing = claims is { ValueKind: JsonValueKind.Array } array ? PodDocument.IndexOfNamed(array, claim) : -1;
        var written = existing < 0 || (intent.GpusEnforced && PodDocument.Str(claims!.Value[existing], "resourceClaimName") is null);
        if (written && !KubernetesNames.IsDns1123Subdomain(template))
        {
            // The policy's literal parts were checked when it loaded; a label or annotation it names may still render to
            // something no object can be called. Written, it would make the API server refuse the pod over a field its
            // author never wrote: reported instead, and the device request left out.
            problems.Add(new(AdmissionProblem.InvalidClaimTemplate,
                $"devices.dra.claimTemplate '{policy.DraClaimTemplate.Text}' makes '{template}' for this pod, which is not a valid ResourceClaimTemplate name (a DNS subdomain: at most 253 lower-case letters, digits, '-' and '.')"));
            return;
        }

        if (claims is not { ValueKind: JsonValueKind.Array })
        {
            patch.Add(WebhookMetrics.PatchResourceClaim, "/spec/resourceClaims", w =>
            {
                w.WriteStartArray();
                WritePodClaim(w, claim, template);
                w.WriteEndArray();
            });
        }
        else if (existing >= 0)
        {
            PlanEnforcedClaim(claims.Value[existing], existing, claim, template, intent, patch, problems);
        }
        else
        {
            patch.Add(WebhookMetrics.PatchResourceClaim, "/spec/resourceClaims/-", w => WritePodClaim(w, claim, template));
        }

        var basePath = string.Create(CultureInfo.InvariantCulture, $"/spec/containers/{index}/resources");
        var resources = PodDocument.Child(pod.Container(index), "resources");
        if (resources is not { ValueKind: JsonValueKind.Object })
        {
            patch.Add(WebhookMetrics.PatchResourceClaim, basePath, w =>
            {
                w.WriteStartObject();
                w.WritePropertyName("claims"u8);
                WriteClaimList(w, claim);
                w.WriteEndObject();
            });
            return;
        }

        var containerClaims = PodDocument.Child(resources, "claims");
        if (containerClaims is not { ValueKind: JsonValueKind.Array })
        {
            patch.Add(WebhookMetrics.PatchResourceClaim, basePath + "/claims", w => WriteClaimList(w, claim));
        }
        else if (!ContainsNamed(containerClaims.Value, claim))
        {
            patch.Add(WebhookMetrics.PatchResourceClaim, basePath + "/claims/-", w => WriteClaimRef(w, claim));
        }
    }

    /// <summary>
    /// The pod already has the claim: like a container's limit it is the user's request, kept unless the count is enforced.
    /// Then its template is replaced by the one for the enforced count, as an enforced limit is; otherwise the annotation
    /// and the feasibility check would describe a count the device request does not ask for.
    /// </summary>
    private static void PlanEnforcedClaim(JsonElement entry, int at, string claim, string template, ResolvedIntent intent, JsonPatchWriter patch, List<AdmissionProblem> problems)
    {
        if (!intent.GpusEnforced)
        {
            return;
        }

        if (PodDocument.Str(entry, "resourceClaimName") is { } named)
        {
            // A ResourceClaim made elsewhere (maybe shared by pods): its devices are not the webhook's to change.
            problems.Add(new(AdmissionProblem.UnenforceableGpuCount, string.Create(CultureInfo.InvariantCulture,
                $"{SchedExtKeys.Gpus} is enforced at {intent.Gpus} but the pod's resource claim '{claim}' names the ResourceClaim '{named}', which the webhook cannot change: use resourceClaimTemplateName '{template}' or leave the claim out")));
            return;
        }

        var current = PodDocument.Child(entry, "resourceClaimTemplateName");
        if (current is not { ValueKind: JsonValueKind.String } written || written.GetString() != template)
        {
            patch.Set(WebhookMetrics.PatchResourceClaim, string.Create(CultureInfo.InvariantCulture, $"/spec/resourceClaims/{at}/resourceClaimTemplateName"), current is not null, template);
        }
    }

    private static void PlanSchedulerName(WebhookPolicy policy, PodDocument pod, JsonPatchWriter patch)
    {
        if (policy.SchedulerName is not { } wanted)
        {
            return;
        }

        var current = pod.SchedulerName;
        if (current == wanted)
        {
            return;
        }

        // The API server defaults schedulerName before admission; "default-scheduler" or empty is not the user's choice.
        var userChose = !string.IsNullOrEmpty(current) && current != DefaultScheduler;
        if (!userChose || (policy.Enforce & EnforcedFields.SchedulerName) != 0)
        {
            patch.Set(WebhookMetrics.PatchSchedulerName, "/spec/schedulerName", pod.HasSchedulerName, wanted);
        }
    }

    private static List<PoolRule> PoolsFor(WebhookPolicy policy, MachinePolicy machine)
    {
        var pools = new List<PoolRule> { policy.GpuPool };
        if (machine is MachinePolicy.RequireBareMetal or MachinePolicy.PreferBareMetal)
        {
            pools.Add(policy.BareMetalPool);
        }
        else if (machine is MachinePolicy.RequireVm or MachinePolicy.PreferVm)
        {
            pools.Add(policy.VmPool);
        }

        return pools;
    }

    private static void PlanTolerations(PodDocument pod, List<PoolRule> pools, JsonPatchWriter patch)
    {
        var existing = new List<Toleration>();
        var array = PodDocument.Child(pod.Spec, "tolerations");
        if (array is { ValueKind: JsonValueKind.Array })
        {
            foreach (var t in array.Value.EnumerateArray())
            {
                existing.Add(ReadToleration(t));
            }
        }

        var missing = pools.SelectMany(p => p.Tolerations).Distinct().Where(t => !existing.Contains(t)).ToList();
        if (missing.Count == 0)
        {
            return;
        }

        if (array is not { ValueKind: JsonValueKind.Array })
        {
            patch.Add(WebhookMetrics.PatchToleration, "/spec/tolerations", w =>
            {
                w.WriteStartArray();
                missing.ForEach(t => WriteToleration(w, t));
                w.WriteEndArray();
            });
            return;
        }

        foreach (var t in missing)
        {
            patch.Add(WebhookMetrics.PatchToleration, "/spec/tolerations/-", w => WriteToleration(w, t));
        }
    }

    private static void PlanNodeAffinity(WebhookPolicy policy, PodDocument pod, MachinePolicy machine, JsonPatchWriter patch)
    {
        var required = new List<NodeRequirement>(policy.GpuPool.NodeAffinity);
        var preferred = new List<(int Weight, IReadOnlyList<NodeRequirement> Expressions)>();
        switch (machine)
        {
            case MachinePolicy.RequireBareMetal:
                required.AddRange(policy.BareMetalPool.NodeAffinity);
                break;
            case MachinePolicy.RequireVm:
                required.AddRange(policy.VmPool.NodeAffinity);
                break;
            case MachinePolicy.PreferBareMetal when policy.BareMetalPool.NodeAffinity.Count > 0:
                preferred.Add((policy.BareMetalPool.PreferredWeight, policy.BareMetalPool.NodeAffinity));
                break;
            case MachinePolicy.PreferVm when policy.VmPool.NodeAffinity.Count > 0:
                preferred.Add((policy.VmPool.PreferredWeight, policy.VmPool.NodeAffinity));
                break;
            default:
                break;
        }

        required = [.. required.Distinct()];
        if (required.Count == 0 && preferred.Count == 0)
        {
            return;
        }

        var affinity = PodDocument.Child(pod.Spec, "affinity");
        if (affinity is not { ValueKind: JsonValueKind.Object })
        {
            patch.Add(WebhookMetrics.PatchNodeAffinity, "/spec/affinity", w =>
            {
                w.WriteStartObject();
                w.WritePropertyName("nodeAffinity"u8);
                WriteNodeAffinity(w, required, preferred);
                w.WriteEndObject();
            });
            return;
        }

        var nodeAffinity = PodDocument.Child(affinity, "nodeAffinity");
        const string NodeAffinityPath = "/spec/affinity/nodeAffinity";
        if (nodeAffinity is not { ValueKind: JsonValueKind.Object })
        {
            patch.Add(WebhookMetrics.PatchNodeAffinity, NodeAffinityPath, w => WriteNodeAffinity(w, required, preferred));
            return;
        }

        if (required.Count > 0)
        {
            PlanRequired(nodeAffinity.Value, NodeAffinityPath + "/requiredDuringSchedulingIgnoredDuringExecution", required, patch);
        }

        if (preferred.Count > 0)
        {
            PlanPreferred(nodeAffinity.Value, NodeAffinityPath + "/preferredDuringSchedulingIgnoredDuringExecution", preferred, patch);
        }
    }

    private static void PlanRequired(JsonElement nodeAffinity, string path, List<NodeRequirement> required, JsonPatchWriter patch)
    {
        var selector = PodDocument.Child(nodeAffinity, "requiredDuringSchedulingIgnoredDuringExecution");
        if (selector is not { ValueKind: JsonValueKind.Object })
        {
            patch.Add(WebhookMetrics.PatchNodeAffinity, path, w => WriteNodeSelector(w, required));
            return;
        }

        var terms = PodDocument.Child(selector, "nodeSelectorTerms");
        if (terms is not { ValueKind: JsonValueKind.Array })
        {
            patch.Add(WebhookMetrics.PatchNodeAffinity, path + "/nodeSelectorTerms", w => WriteTerms(w, required));
            return;
        }

        if (terms.Value.GetArrayLength() == 0)
        {
            patch.Add(WebhookMetrics.PatchNodeAffinity, path + "/nodeSelectorTerms/-", w => WriteTerm(w, required));
            return;
        }

        // Terms are ORed: the pool's requirements are ANDed into every one of them.
        var i = 0;
        foreach (var term in terms.Value.EnumerateArray())
        {
            var termPath = string.Create(CultureInfo.InvariantCulture, $"{path}/nodeSelectorTerms/{i++}/matchExpressions");
            var expressions = PodDocument.Child(term, "matchExpressions");
            var present = expressions is { ValueKind: JsonValueKind.Array } ? ReadRequirements(expressions.Value) : [];
            var missing = required.Where(r => !present.Contains(r)).ToList();
            if (missing.Count == 0)
            {
                continue;
            }

            if (expressions is not { ValueKind: JsonValueKind.Array })
            {
                patch.Add(WebhookMetrics.PatchNodeAffinity, termPath, w => WriteRequirements(w, missing));
                continue;
            }

            foreach (var r in missing)
            {
                patch.Add(WebhookMetrics.PatchNodeAffinity, termPath + "/-", w => WriteRequirement(w, r));
            }
        }
    }

    private static void PlanPreferred(JsonElement nodeAffinity, string path, List<(int Weight, IReadOnlyList<NodeRequirement> Expressions)> preferred, JsonPatchWriter patch)
    {
        var array = PodDocument.Child(nodeAffinity, "preferredDuringSchedulingIgnoredDuringExecution");
        if (array is not { ValueKind: JsonValueKind.Array })
        {
            patch.Add(WebhookMetrics.PatchNodeAffinity, path, w =>
            {
                w.WriteStartArray();
                preferred.ForEach(p => WritePreferred(w, p.Weight, p.Expressions));
                w.WriteEndArray();
            });
            return;
        }

        var present = new List<(int, List<NodeRequirement>)>();
        foreach (var term in array.Value.EnumerateArray())
        {
            var weight = PodDocument.Child(term, "weight") is { ValueKind: JsonValueKind.Number } wv && wv.TryGetInt32(out var wi) ? wi : 0;
            var exprs = PodDocument.Child(PodDocument.Child(term, "preference"), "matchExpressions");
            present.Add((weight, exprs is { ValueKind: JsonValueKind.Array } ? ReadRequirements(exprs.Value) : []));
        }

        foreach (var p in preferred)
        {
            if (!present.Exists(x => x.Item1 == p.Weight && x.Item2.SequenceEqual(p.Expressions)))
            {
                patch.Add(WebhookMetrics.PatchNodeAffinity, path + "/-", w => WritePreferred(w, p.Weight, p.Expressions));
            }
        }
    }

    private static bool ContainsNamed(JsonElement array, string name) => PodDocument.IndexOfNamed(array, name) >= 0;

    private static Toleration ReadToleration(JsonElement t)
    {
        long? seconds = PodDocument.Child(t, "tolerationSeconds") is { ValueKind: JsonValueKind.Number } s && s.TryGetInt64(out var v) ? v : null;
        return new Toleration(
            NullIfEmpty(PodDocument.Str(t, "key")),
            NullIfEmpty(PodDocument.Str(t, "operator")) ?? "Equal",
            NullIfEmpty(PodDocument.Str(t, "value")),
            NullIfEmpty(PodDocument.Str(t, "effect")),
            seconds);
    }

    private static List<NodeRequirement> ReadRequirements(JsonElement array)
    {
        var list = new List<NodeRequirement>();
        foreach (var e in array.EnumerateArray())
        {
            var values = PodDocument.Child(e, "values") is { ValueKind: JsonValueKind.Array } va
                ? va.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!).ToArray()
                : [];
            list.Add(new NodeRequirement(PodDocument.Str(e, "key") ?? string.Empty, PodDocument.Str(e, "operator") ?? string.Empty, values));
        }

        return list;
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private static void WriteQuantityMap(Utf8JsonWriter w, string map, string resource, string count)
    {
        w.WriteStartObject();
        w.WritePropertyName(map);
        WriteQuantity(w, resource, count);
        w.WriteEndObject();
    }

    private static void WriteQuantity(Utf8JsonWriter w, string resource, string count)
    {
        w.WriteStartObject();
        w.WriteString(resource, count);
        w.WriteEndObject();
    }

    private static void WritePodClaim(Utf8JsonWriter w, string claim, string template)
    {
        w.WriteStartObject();
        w.WriteString("name"u8, claim);
        w.WriteString("resourceClaimTemplateName"u8, template);
        w.WriteEndObject();
    }

    private static void WriteClaimList(Utf8JsonWriter w, string claim)
    {
        w.WriteStartArray();
        WriteClaimRef(w, claim);
        w.WriteEndArray();
    }

    private static void WriteClaimRef(Utf8JsonWriter w, string claim)
    {
        w.WriteStartObject();
        w.WriteString("name"u8, claim);
        w.WriteEndObject();
    }

    private static void WriteToleration(Utf8JsonWriter w, Toleration t)
    {
        w.WriteStartObject();
        if (t.Key is not null)
        {
            w.WriteString("key"u8, t.Key);
        }

        w.WriteString("operator"u8, t.Operator);
        if (t.Value is not null)
        {
            w.WriteString("value"u8, t.Value);
        }

        if (t.Effect is not null)
        {
            w.WriteString("effect"u8, t.Effect);
        }

        if (t.TolerationSeconds is { } s)
        {
            w.WriteNumber("tolerationSeconds"u8, s);
        }

        w.WriteEndObject();
    }

    private static void WriteNodeAffinity(Utf8JsonWriter w, List<NodeRequirement> required, List<(int Weight, IReadOnlyList<NodeRequirement> Expressions)> preferred)
    {
        w.WriteStartObject();
        if (required.Count > 0)
        {
            w.WritePropertyName("requiredDuringSchedulingIgnoredDuringExecution"u8);
            WriteNodeSelector(w, required);
        }

        if (preferred.Count > 0)
        {
            w.WritePropertyName("preferredDuringSchedulingIgnoredDuringExecution"u8);
            w.WriteStartArray();
            preferred.ForEach(p => WritePreferred(w, p.Weight, p.Expressions));
            w.WriteEndArray();
        }

        w.WriteEndObject();
    }

    private static void WriteNodeSelector(Utf8JsonWriter w, List<NodeRequirement> required)
    {
        w.WriteStartObject();
        w.WritePropertyName("nodeSelectorTerms"u8);
        WriteTerms(w, required);
        w.WriteEndObject();
    }

    private static void WriteTerms(Utf8JsonWriter w, List<NodeRequirement> required)
    {
        w.WriteStartArray();
        WriteTerm(w, required);
        w.WriteEndArray();
    }

    private static void WriteTerm(Utf8JsonWriter w, IReadOnlyList<NodeRequirement> expressions)
    {
        w.WriteStartObject();
        w.WritePropertyName("matchExpressions"u8);
        WriteRequirements(w, expressions);
        w.WriteEndObject();
    }

    private static void WritePreferred(Utf8JsonWriter w, int weight, IReadOnlyList<NodeRequirement> expressions)
    {
        w.WriteStartObject();
        w.WriteNumber("weight"u8, weight);
        w.WritePropertyName("preference"u8);
        WriteTerm(w, expressions);
        w.WriteEndObject();
    }

    private static void WriteRequirements(Utf8JsonWriter w, IReadOnlyList<NodeRequirement> expressions)
    {
        w.WriteStartArray();
        foreach (var r in expressions)
        {
            WriteRequirement(w, r);
        }

        w.WriteEndArray();
    }

    private static void WriteRequirement(Utf8JsonWriter w, NodeRequirement r)
    {
        w.WriteStartObject();
        w.WriteString("key"u8, r.Key);
        w.WriteString("operator"u8, r.Operator);
        if (r.Values.Count > 0)
        {
            w.WriteStartArray("values"u8);
            foreach (var v in r.Values)
            {
                w.WriteStringValue(v);
            }

            w.WriteEndArray();
        }

        w.WriteEndObject();
    }
}
