using System.Globalization;
using System.Text;
using System.Text.Json;
using SchedExt.Topology.Requests;
using SchedExt.Webhook.Diagnostics;
using SchedExt.Webhook.Feasibility;
using SchedExt.Webhook.Mutation;
using SchedExt.Webhook.Policy;

namespace SchedExt.Webhook.Admission;

/// <summary>Decides one AdmissionReview: skip fast when the webhook has nothing to do, else resolve, check and patch.</summary>
internal sealed class AdmissionReviewer(PolicyStore policies, ClusterView cluster, IShapeFeasibility feasibility, WebhookMetrics metrics, ILogger<AdmissionReviewer> logger)
{
    /// <summary>The pod annotation that names the container to receive the GPUs (default: the policy's, else the first).</summary>
    public const string ContainerKey = SchedExtKeys.Prefix + "container";

    private const int MaxAuditValueLength = 4096;

    /// <summary>Reviews the body; throws <see cref="BadReviewException"/> when it is malformed.</summary>
    public AdmissionAnswer Review(ReadOnlyMemory<byte> body)
    {
        var review = ReviewEnvelope.Read(body.Span);
        if (!review.IsPod || review.Operation != AdmissionOperation.Create)
        {
            return AdmissionAnswer.Skip(review.Uid);
        }

        if (!review.HasObject)
        {
            throw new BadReviewException("request.object is missing or null for a Pod CREATE");
        }

        var policy = policies.Current;
        if (policy is null || !policy.NamespaceInScope(review.Namespace))
        {
            return AdmissionAnswer.Skip(review.Uid);
        }

        var pod = body.Slice(review.ObjectStart, review.ObjectLength);
        if (!OptInScanner.IsOptedIn(pod.Span))
        {
            return AdmissionAnswer.Skip(review.Uid);
        }

        var snapshot = cluster.Current;
        var nsLabels = snapshot.LabelsOf(review.Namespace);
        if (policy.NamespaceSelector.Count > 0 && !WebhookPolicy.LabelsMatch(policy.NamespaceSelector, nsLabels))
        {
            return AdmissionAnswer.Skip(review.Uid);
        }

        using var document = JsonDocument.Parse(pod);
        return Decide(review, policy, snapshot, nsLabels, new PodDocument(document.RootElement));
    }

    private AdmissionAnswer Decide(ReviewEnvelope review, WebhookPolicy policy, ClusterSnapshot snapshot, IReadOnlyDictionary<string, string>? nsLabels, PodDocument pod)
    {
        var problems = new List<AdmissionProblem>();
        var podName = pod.DisplayName(review.Name);
        var demand = policy.DeviceMode == DeviceRequestMode.ExtendedResource ? PodGpuDemand.Read(pod, policy.ResourceName) : PodGpuDemand.None;
        var intent = IntentResolver.Resolve(policy, review.Namespace, nsLabels, pod, demand, podName, problems);
        var mode = policy.NamespaceDefaultFor(review.Namespace, nsLabels)?.Mode ?? policy.Mode;
        var container = ChooseContainer(policy, pod, demand, problems);
        CheckFeasibility(review, snapshot, intent, podName, problems);

        using var patch = new JsonPatchWriter();
        PodPatchPlanner.Plan(policy, pod, intent, container, patch, problems);
        var patchBytes = patch.Finish();
        foreach (var (kind, count) in patch.Kinds)
        {
            metrics.Patch(kind, count);
        }

        var messages = problems.Select(p => p.Message).ToList();
        switch (mode)
        {
            case PolicyMode.Shadow:
                foreach (var reason in problems.Select(p => p.Reason).Distinct())
                {
                    metrics.Warning(reason, "shadow");
                }

                var audit = new List<KeyValuePair<string, string>> { new("mode", "shadow") };
                if (patch.Count > 0)
                {
                    audit.Add(new("would-patch", Truncate(Encoding.UTF8.GetString(patchBytes.Span))));
                }

                if (messages.Count > 0)
                {
                    audit.Add(new("would-deny", Truncate(string.Join("; ", messages))));
                }

                Log.Shadow(logger, review.Namespace, podName, patch.Count, messages.Count == 0 ? "none" : string.Join("; ", messages));
                return new AdmissionAnswer { Uid = review.Uid, Outcome = ReviewOutcome.Shadow, AuditAnnotations = audit };

            case PolicyMode.Enforce when problems.Count > 0:
                foreach (var reason in problems.Select(p => p.Reason).Distinct())
                {
                    metrics.Denial(reason);
                }

                var message = $"SchedExt: pod {review.Namespace}/{podName} denied: {string.Join("; ", messages)}";
                Log.Denied(logger, review.Namespace, podName, review.Uid, message);
                return new AdmissionAnswer { Uid = review.Uid, Outcome = ReviewOutcome.Denied, Allowed = false, DenyMessage = message };

            default:
                foreach (var reason in problems.Select(p => p.Reason).Distinct())
                {
                    metrics.Warning(reason, "warn");
                }

                return new AdmissionAnswer
                {
                    Uid = review.Uid,
                    Outcome = problems.Count > 0 ? ReviewOutcome.Warned : patch.Count > 0 ? ReviewOutcome.Mutated : ReviewOutcome.Unchanged,
                    Patch = patchBytes,
                    Warnings = messages.Count > 0 ? [.. messages.Select(m => "SchedExt: " + m)] : null,
                };
        }
    }

    private void CheckFeasibility(ReviewEnvelope review, ClusterSnapshot snapshot, ResolvedIntent intent, string podName, List<AdmissionProblem> problems)
    {
        if (intent.ToGpuRequest() is not { } request)
        {
            return;
        }

        var verdict = feasibility.Check(request, snapshot);
        if (!verdict.Checked)
        {
            metrics.FeasibilitySkipped();
            Log.FeasibilitySkipped(logger, review.Namespace, podName);
            return;
        }

        if (verdict.Feasible)
        {
            return;
        }

        var largest = verdict.LargestCount > 0
            ? string.Create(CultureInfo.InvariantCulture, $"the largest request these constraints allow is {verdict.LargestCount} GPU(s)")
            : "no GPU count can be satisfied with these constraints";
        problems.Add(new(AdmissionProblem.Infeasible, $"no node can ever run {intent.Describe()}: {verdict.Reason}; {largest}"));
    }

    /// <summary>The container whose device request the planner may write, or -1 for none.</summary>
    private static int ChooseContainer(WebhookPolicy policy, PodDocument pod, PodGpuDemand demand, List<AdmissionProblem> problems)
    {
        if (pod.ContainerCount == 0)
        {
            return -1;
        }

        // Containers that already hold the device request are the user's explicit choice. Extended resources: only a sole
        // holder among the app containers is ever written; with several (or an init container), none is.
        if (demand.Holders > 0)
        {
            return demand.SoleContainer;
        }

        for (var i = 0; i < pod.ContainerCount; i++)
        {
            if (policy.DeviceMode == DeviceRequestMode.Dra
                && PodDocument.Child(PodDocument.Child(pod.Container(i), "resources"), "claims") is { ValueKind: JsonValueKind.Array } claims
                && claims.EnumerateArray().Any(c => PodDocument.Str(c, "name") == policy.DraClaimName))
            {
                return i;
            }
        }

        if (pod.Annotations.TryGetValue(ContainerKey, out var named))
        {
            var index = pod.IndexOfContainer(named);
            if (index < 0)
            {
                problems.Add(new(AdmissionProblem.UnknownContainer, $"{ContainerKey}: the pod has no container '{named}'"));
            }

            return index;
        }

        return policy.DefaultContainer is { } d && pod.IndexOfContainer(d) is var j and >= 0 ? j : 0;
    }

    private static string Truncate(string s) => s.Length <= MaxAuditValueLength ? s : s[..(MaxAuditValueLength - 1)] + "…";
}
