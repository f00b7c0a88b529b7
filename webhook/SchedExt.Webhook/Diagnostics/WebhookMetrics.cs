using Prometheus;

namespace SchedExt.Webhook.Diagnostics;

/// <summary>How one AdmissionReview ended, as counted in <c>schedext_webhook_reviews_total{outcome}</c>.</summary>
internal enum ReviewOutcome
{
    /// <summary>Not a Pod CREATE, or a pod that did not opt in, or a namespace out of scope: allowed untouched.</summary>
    Skipped,

    /// <summary>Opted in, allowed, with a non-empty patch.</summary>
    Mutated,

    /// <summary>Opted in, allowed, nothing to change (e.g. re-invocation).</summary>
    Unchanged,

    /// <summary>Opted in and allowed with warnings (warn mode).</summary>
    Warned,

    /// <summary>Opted in and denied (enforce mode).</summary>
    Denied,

    /// <summary>Shadow mode: computed, not applied.</summary>
    Shadow,

    /// <summary>Malformed or oversized review: HTTP 400/413.</summary>
    BadRequest,

    /// <summary>The caller went away before the body was read (its connection closed mid-body): nothing could be answered.</summary>
    CallerGone,
}

/// <summary>The webhook's Prometheus metrics, in a registry of their own (one per host, so tests stay isolated).</summary>
/// <remarks>
/// PERF: every labelled child used on the hot path is resolved once here, so counting allocates nothing.
/// </remarks>
internal sealed class WebhookMetrics
{
    public const string PatchAnnotation = "annotation";
    public const string PatchLabel = "label";
    public const string PatchDeviceLimit = "device-limit";
    public const string PatchResourceClaim = "resource-claim";
    public const string PatchSchedulerName = "scheduler-name";
    public const string PatchToleration = "toleration";
    public const string PatchNodeAffinity = "node-affinity";

    private readonly Counter.Child[] _reviews;
    private readonly Histogram _duration;
    private readonly Counter _patches;
    private readonly Counter _denials;
    private readonly Counter _warnings;
    private readonly Counter.Child _reloadOk;
    private readonly Counter.Child _reloadFailed;
    private readonly Counter.Child _tlsOk;
    private readonly Counter.Child _tlsFailed;
    private readonly Counter _feasibilitySkipped;
    private readonly Gauge _nodeShapes;
    private readonly Gauge _nodes;

    public WebhookMetrics()
    {
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        var reviews = factory.CreateCounter("schedext_webhook_reviews_total", "AdmissionReviews answered, by outcome.", "outcome");
        _reviews = [.. Enum.GetValues<ReviewOutcome>().Select(o => reviews.WithLabels(OutcomeLabel(o)))];
        _duration = factory.CreateHistogram(
            "schedext_webhook_review_duration_seconds",
            "Time from reading the AdmissionReview body to writing the answer.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.00001, 2, 16) });
        _patches = factory.CreateCounter("schedext_webhook_patch_operations_total", "JSON Patch operations returned (or, in shadow mode, computed), by kind.", "kind");
        _denials = factory.CreateCounter("schedext_webhook_denials_total", "Pods denied, by reason.", "reason");
        _warnings = factory.CreateCounter("schedext_webhook_warnings_total", "Pods allowed with a warning (warn mode) or that would have been denied (shadow mode), by reason and mode.", "reason", "mode");
        var reloads = factory.CreateCounter("schedext_webhook_policy_reloads_total", "Policy file loads, by result.", "result");
        _reloadOk = reloads.WithLabels("success");
        _reloadFailed = reloads.WithLabels("failure");
        var tls = factory.CreateCounter("schedext_webhook_tls_reloads_total", "Serving certificate loads, by result.", "result");
        _tlsOk = tls.WithLabels("success");
        _tlsFailed = tls.WithLabels("failure");
        _feasibilitySkipped = factory.CreateCounter("schedext_webhook_feasibility_skipped_total", "Opted-in pods whose feasibility was not checked because no node shapes are known.");
        _nodeShapes = factory.CreateGauge("schedext_webhook_node_shapes", "Distinct node shapes (topology and machine kind) known for feasibility checks.");
        _nodes = factory.CreateGauge("schedext_webhook_nodes", "GPU nodes known for feasibility checks.");
    }

    public CollectorRegistry Registry { get; }

    public void Review(ReviewOutcome outcome, TimeSpan elapsed)
    {
        _reviews[(int)outcome].Inc();
        _duration.Observe(elapsed.TotalSeconds);
    }

    public void Patch(string kind, int operations) => _patches.WithLabels(kind).Inc(operations);

    public void Denial(string reason) => _denials.WithLabels(reason).Inc();

    public void Warning(string reason, string mode) => _warnings.WithLabels(reason, mode).Inc();

    public void PolicyReload(bool ok) => (ok ? _reloadOk : _reloadFailed).Inc();

    public void TlsReload(bool ok) => (ok ? _tlsOk : _tlsFailed).Inc();

    public void FeasibilitySkipped() => _feasibilitySkipped.Inc();

    public void NodeShapes(int shapes, int nodes)
    {
        _nodeShapes.Set(shapes);
        _nodes.Set(nodes);
    }

    private static string OutcomeLabel(ReviewOutcome outcome) => outcome switch
    {
        ReviewOutcome.Skipped => "skipped",
        ReviewOutcome.Mutated => "mutated",
        ReviewOutcome.Unchanged => "unchanged",
        ReviewOutcome.Warned => "warned",
        ReviewOutcome.Denied => "denied",
        ReviewOutcome.Shadow => "shadow",
        ReviewOutcome.CallerGone => "caller-gone",
        _ => "bad-request",
    };
}
