using System.Globalization;
using SchedExt.Topology.Model;
using SchedExt.Topology.Requests;
using SchedExt.Webhook.Policy;

namespace SchedExt.Webhook.Mutation;

/// <summary>Merges the policy's namespace default and profile with the pod's own <c>schedext.io/*</c> values.</summary>
/// <remarks>
/// Precedence, highest first: an enforced namespace default, an enforced profile, the pod's explicit value, the profile,
/// the namespace default. A field is "enforced" when its name is in the source's <c>enforce</c> list or the top-level one.
/// </remarks>
internal static class IntentResolver
{
    public static ResolvedIntent Resolve(WebhookPolicy policy, string ns, IReadOnlyDictionary<string, string>? nsLabels, PodDocument pod, PodGpuDemand demand, string podName, List<AdmissionProblem> problems)
    {
        var nsRule = policy.NamespaceDefaultFor(ns, nsLabels);
        var intent = new ResolvedIntent
        {
            Namespace = ns,
            PodName = podName,
            NamespaceLabels = nsLabels,
            PodLabels = pod.Labels,
            PodAnnotations = pod.Annotations,
        };

        IntentRule? profile = null;
        var profileName = pod.Annotations.GetValueOrDefault(SchedExtKeys.Profile) ?? nsRule?.Profile;
        if (!string.IsNullOrWhiteSpace(profileName))
        {
            profileName = profileName.Trim();
            if (policy.Profiles.TryGetValue(profileName, out profile))
            {
                intent.Profile = profileName;
            }
            else
            {
                var known = policy.Profiles.Count == 0 ? "none" : string.Join(", ", policy.Profiles.Keys.Order(StringComparer.Ordinal));
                problems.Add(new(AdmissionProblem.UnknownProfile, $"{SchedExtKeys.Profile}: profile '{profileName}' does not exist (known: {known})"));
            }
        }

        var sources = new Sources(nsRule?.Intent, profile, policy.Enforce);
        intent.Interconnect = Resolve(pod, SchedExtKeys.Interconnect, EnforcedFields.Interconnect, sources, r => r.Interconnect is { } v ? SchedExtKeys.Format(v) : null,
            v => SchedExtKeys.TryParseInterconnect(v, out _), "nvlink, pcie-switch, numa, any", problems);
        intent.Rdma = Resolve(pod, SchedExtKeys.Rdma, EnforcedFields.Rdma, sources, r => r.Rdma is { } v ? SchedExtKeys.Format(v) : null,
            v => SchedExtKeys.TryParseNicNeed(v, out _), "required, preferred, none", problems);
        intent.Machine = Resolve(pod, SchedExtKeys.Machine, EnforcedFields.Machine, sources, r => r.Machine is { } v ? SchedExtKeys.Format(v) : null,
            v => SchedExtKeys.TryParseMachinePolicy(v, out _), "bare-metal, vm, any, preferred-bare-metal, preferred-vm", problems);
        intent.GpuProduct = Resolve(pod, SchedExtKeys.GpuProduct, EnforcedFields.GpuProduct, sources, r => r.GpuProduct,
            v => v.Trim().Length > 0, "a non-empty glob such as *H100*", problems);
        intent.GpuMemory = Resolve(pod, SchedExtKeys.GpuMemory, EnforcedFields.GpuMemory, sources, r => r.GpuMemory,
            v => SchedExtKeys.TryParseMemoryMiB(v, out _), "a quantity such as 80Gi or 40960Mi", problems);

        // After the other values, which a DRA claim template may name; before the placement group, which may name the count.
        ResolveGpus(policy, pod, demand, sources, intent, problems);

        // Rendered last: a placement-group template may refer to the other resolved values.
        intent.PlacementGroup = Resolve(pod, SchedExtKeys.PlacementGroup, EnforcedFields.PlacementGroup, sources,
            r => r.PlacementGroup?.Render(intent) is { Length: > 0 } g ? g : null, v => v.Trim().Length > 0, "a non-empty name", problems);
        return intent;
    }

    private static void ResolveGpus(WebhookPolicy policy, PodDocument pod, PodGpuDemand demand, Sources sources, ResolvedIntent intent, List<AdmissionProblem> problems)
    {
        // The pod's explicit count: what its containers hold (as the extender counts it) wins over the schedext.io/gpus
        // annotation. Once a container holds the resource that is the pod's count, valid or not: the annotation, the
        // feasibility check and the device request must all describe the one number the extender will place.
        int? explicitCount = demand.Count;
        var claimCount = demand.Holders == 0 ? ClaimCount(policy, pod, intent) : null;
        explicitCount ??= claimCount;

        // The pod asks for devices itself (a container names the resource, or its own DRA claim gives a count).
        var ownRequest = demand.Holders > 0 || claimCount is not null;
        if (demand.Problem is { } invalid)
        {
            problems.Add(new(AdmissionProblem.InvalidGpuCount, invalid));
        }

        // Read even when a container holds the count: an annotation the webhook cannot parse is kept and reported whether
        // or not the pod had a limit yet, so a second pass over the first one's output (which added the limit) neither
        // rewrites it nor stops reporting it.
        var annotationUnparsed = false;
        if (pod.Annotations.TryGetValue(SchedExtKeys.Gpus, out var raw))
        {
            if (!(int.TryParse(raw.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= NodeTopology.MaxGpus))
            {
                annotationUnparsed = true;
                problems.Add(new(AdmissionProblem.InvalidGpuCount, $"{SchedExtKeys.Gpus}: '{raw}' is not a GPU count in 1..{NodeTopology.MaxGpus}"));
            }
            else if (!ownRequest)
            {
                explicitCount = n;
            }
        }

        if (sources.Enforced(EnforcedFields.Gpus, r => r.Gpus) is { } enforced)
        {
            if (demand.Holders > 0 && demand.SoleContainer < 0 && explicitCount != enforced)
            {
                // Several containers (or an init container) hold the GPUs: rewriting one of them would be a guess at how the
                // user meant to split the count, and a pod whose containers no longer add up to its annotation.
                if (explicitCount is { } own)
                {
                    problems.Add(new(AdmissionProblem.UnenforceableGpuCount, string.Create(CultureInfo.InvariantCulture,
                        $"{SchedExtKeys.Gpus} is enforced at {enforced} but the pod's containers ask for {own} GPU(s) ({demand.Describe()}); the webhook changes the request only when one container holds it: make the containers ask for {enforced} in all")));
                }

                intent.Gpus = explicitCount;
            }
            else
            {
                intent.Gpus = enforced;
                intent.GpusEnforced = true;
            }
        }
        else
        {
            intent.Gpus = ownRequest ? explicitCount : explicitCount ?? sources.Profile?.Gpus ?? sources.Namespace?.Gpus;
            intent.GpusAnnotationKept = annotationUnparsed;
        }

        // An unknown profile or a bad count already explains the missing count.
        if (intent.Gpus is null && !problems.Exists(p => p.Reason is AdmissionProblem.InvalidGpuCount or AdmissionProblem.UnknownProfile))
        {
            problems.Add(new(AdmissionProblem.MissingGpuCount, $"no GPU count: set {SchedExtKeys.Gpus}, a {policy.ResourceName} limit, or {SchedExtKeys.Profile}"));
        }
    }

    /// <summary>
    /// DRA mode: the count of the pod's own resource claim, when its template name is one the policy's claim template
    /// makes for this pod (<c>schedext-gpus-2</c> from <c>schedext-gpus-{gpus}</c>). Like a container's limit it is the
    /// pod's explicit request, ahead of the annotation. Null for a claim from any other template: what that allocates is
    /// not the webhook's to know.
    /// </summary>
    /// <remarks>
    /// The placement group is resolved after the count (its template may name <c>{gpus}</c>): here
    /// <c>{placementGroup}</c> stands for the pod's own <c>schedext.io/placement-group</c>, or nothing.
    /// </remarks>
    private static int? ClaimCount(WebhookPolicy policy, PodDocument pod, ResolvedIntent intent) =>
        policy.DeviceMode == DeviceRequestMode.Dra
        && pod.ClaimTemplateName(policy.DraClaimName) is { } name
        && policy.DraClaimTemplate.TryReadGpus(name, new OwnGroupScope(intent, pod.Annotations.GetValueOrDefault(SchedExtKeys.PlacementGroup)), out var n)
        && n is >= 1 and <= NodeTopology.MaxGpus
            ? n
            : null;

    /// <summary><paramref name="intent"/>'s values, with the pod's own placement group for <c>{placementGroup}</c>.</summary>
    private sealed class OwnGroupScope(ResolvedIntent intent, string? group) : ITemplateScope
    {
        public string? Variable(TemplateVariable variable) => variable == TemplateVariable.PlacementGroup ? group : intent.Variable(variable);

        public string? Lookup(TemplateVariable source, string key) => intent.Lookup(source, key);
    }

    private static ResolvedValue Resolve(
        PodDocument pod,
        string key,
        EnforcedFields field,
        Sources sources,
        Func<IntentRule, string?> valueOf,
        Func<string, bool> isValid,
        string expected,
        List<AdmissionProblem> problems)
    {
        if (sources.Enforced(field, valueOf) is { } enforced)
        {
            return new ResolvedValue(enforced, FromPod: false);
        }

        if (pod.Annotations.TryGetValue(key, out var podValue))
        {
            if (isValid(podValue))
            {
                return new ResolvedValue(podValue, FromPod: true);
            }

            // Left as the user wrote it: the webhook never rewrites a value it cannot understand.
            problems.Add(new(AdmissionProblem.InvalidAnnotation, $"{key}: '{podValue}' is not one of {expected}"));
            return ResolvedValue.None;
        }

        var value = (sources.Profile is null ? null : valueOf(sources.Profile)) ?? (sources.Namespace is null ? null : valueOf(sources.Namespace));
        return value is null ? ResolvedValue.None : new ResolvedValue(value, FromPod: false);
    }

    private readonly record struct Sources(IntentRule? Namespace, IntentRule? Profile, EnforcedFields Global)
    {
        public T? Enforced<T>(EnforcedFields field, Func<IntentRule, T?> valueOf)
        {
            if (Namespace is not null && ((Namespace.Enforce | Global) & field) != 0 && valueOf(Namespace) is { } n)
            {
                return n;
            }

            return Profile is not null && ((Profile.Enforce | Global) & field) != 0 && valueOf(Profile) is { } p ? p : default;
        }
    }
}
