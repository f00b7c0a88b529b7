using Prometheus;
using SchedExt.Topology.Search;

namespace SchedExt.Extender.Metrics;

/// <summary>The extender's Prometheus metrics, with label children resolved once so the hot path only increments.</summary>
internal sealed class ExtenderMetrics
{
    public const string VerbFilter = "filter";
    public const string VerbPrioritize = "prioritize";
    public const string VerbBind = "bind";
    public const string VerbPreempt = "preempt";

    private readonly Counter.Child[] _filteredByReason;
    private readonly Counter _binds;
    private readonly Histogram _duration;

    public ExtenderMetrics(CollectorRegistry registry)
    {
        var factory = Prometheus.Metrics.WithCustomRegistry(registry);
        _duration = factory.CreateHistogram("schedext_extender_request_duration_seconds", "Time to answer one kube-scheduler call, by verb.",
            new HistogramConfiguration { LabelNames = ["verb"], Buckets = Histogram.ExponentialBuckets(0.0001, 2, 16) });
        Requests = factory.CreateCounter("schedext_extender_requests_total", "kube-scheduler calls by verb and HTTP status.", "verb", "code");
        var filtered = factory.CreateCounter("schedext_extender_filtered_nodes_total", "Nodes rejected by filter, by reason.", "reason");
        _filteredByReason = Enum.GetValues<Infeasibility>().Select(r => filtered.WithLabels(ReasonLabel(r))).ToArray();
        UnknownNodes = filtered.WithLabels("unknown_node");
        _binds = factory.CreateCounter("schedext_extender_binds_total", "Bind outcomes: bound, already_bound, conflict_retry, conflict, no_fit, error.", "outcome");
        PlacementScore = factory.CreateHistogram("schedext_extender_placement_score", "Placement quality (0-10 scale) of bound pods.",
            new HistogramConfiguration { Buckets = Histogram.LinearBuckets(0, 1, 11) });
        SnapshotAge = factory.CreateGauge("schedext_extender_snapshot_age_seconds", "Seconds since the cluster source last heard from its backend.");
        SnapshotNodes = factory.CreateGauge("schedext_extender_nodes", "GPU nodes in the current snapshot.");
        FreeGroups = factory.CreateGauge("schedext_extender_free_gpu_groups", "Nodes that can place a group of `size` GPUs at `tier` now, by shape.", "shape", "tier", "size");
        FreeGpus = factory.CreateGauge("schedext_extender_free_gpus", "Free GPUs by shape.", "shape");
        Reservations = factory.CreateGauge("schedext_extender_reservations", "In-flight GPU reservations not yet visible in the snapshot.");
    }

    public Counter Requests { get; }

    public Counter.Child UnknownNodes { get; }

    public Histogram PlacementScore { get; }

    public Gauge SnapshotAge { get; }

    public Gauge SnapshotNodes { get; }

    public Gauge FreeGroups { get; }

    public Gauge FreeGpus { get; }

    public Gauge Reservations { get; }

    public IHistogram Duration(string verb) => _duration.WithLabels(verb);

    public void Filtered(Infeasibility reason, int nodes = 1) => _filteredByReason[(int)reason].Inc(nodes);

    public void Bind(string outcome) => _binds.WithLabels(outcome).Inc();

    private static string ReasonLabel(Infeasibility reason) => reason switch
    {
        Infeasibility.None => "none",
        Infeasibility.TooFewGpus => "too_few_gpus",
        Infeasibility.NotEnoughFree => "not_enough_free",
        Infeasibility.NoMatchingProduct => "no_matching_product",
        Infeasibility.NotEnoughNearNic => "not_enough_near_nic",
        Infeasibility.LinkTooWeak => "link_too_weak",
        Infeasibility.MachineKindMismatch => "machine_kind",
        Infeasibility.NoTopology => "no_topology",
        Infeasibility.GpuMemoryUnknown => "gpu_memory_unknown",
        _ => "other",
    };
}
