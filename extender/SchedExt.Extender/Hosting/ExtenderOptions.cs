using SchedExt.Topology.Scoring;

namespace SchedExt.Extender;

/// <summary>Configuration of the extender, bound from section <c>SchedExt:Extender</c> (env <c>SchedExt__Extender__…</c>).</summary>
internal sealed class ExtenderOptions
{
    public const string Section = "SchedExt:Extender";

    /// <summary>The extended resource that counts GPUs.</summary>
    public string GpuResourceName { get; set; } = "nvidia.com/gpu";

    /// <summary>Largest request body accepted on the verb routes; larger bodies get 400 before parsing.</summary>
    public long MaxRequestBodyBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>
    /// When true (the default, for the sidecar deployment the manifests use), filter, prioritize, bind and preempt answer
    /// 403 to callers that are not on the loopback interface: bind creates Bindings with the extender's cluster-wide
    /// rights, so no other pod may call it. Set false when kube-scheduler reaches the extender over the network, and
    /// restrict who can reach it (NetworkPolicy) instead.
    /// </summary>
    public bool VerbsFromLoopbackOnly { get; set; } = true;

    /// <summary>Namespace holding the per-GPU claim Leases.</summary>
    public string ClaimNamespace { get; set; } = "schedext-system";

    /// <summary>When set, the cluster is read from this YAML/JSON file of Nodes and Pods instead of the API server.</summary>
    public string? SnapshotFile { get; set; }

    /// <summary>When true (and no <see cref="SnapshotFile"/>), serve the built-in demo cluster instead of the API server.</summary>
    public bool Demo { get; set; }

    /// <summary>Readiness fails when the API watch has been silent longer than this.</summary>
    public TimeSpan StaleAfter { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>How long one watch request may stay open before it is re-established (keeps contact fresh).</summary>
    public TimeSpan WatchTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Node label holding the rack name, for placement-group locality.</summary>
    public string RackLabel { get; set; } = "schedext.io/rack";

    /// <summary>Node label holding the block (a group of racks) name.</summary>
    public string BlockLabel { get; set; } = "schedext.io/block";

    /// <summary>
    /// Rules that derive the machine kind when a node has no explicit <c>schedext.io/machine</c> label; first match wins.
    /// The default reads Node Feature Discovery's hypervisor CPU flag.
    /// </summary>
    public List<MachineRule> MachineRules { get; set; } =
    [
        new() { Label = "feature.node.kubernetes.io/cpu-cpuid.HYPERVISOR", Value = "true", Kind = "vm" },
    ];

    /// <summary>Weights of the score parts.</summary>
    public ScoreWeightOptions Weights { get; set; } = new();
}

/// <summary>One rule: a node whose label <see cref="Label"/> equals <see cref="Value"/> (any value when null) is of kind <see cref="Kind"/>.</summary>
internal sealed class MachineRule
{
    public string Label { get; set; } = string.Empty;

    public string? Value { get; set; }

    /// <summary><c>bare-metal</c> or <c>vm</c>.</summary>
    public string Kind { get; set; } = "vm";
}

/// <summary>Configurable weights (see <see cref="ScoreWeights"/> for their meaning).</summary>
internal sealed class ScoreWeightOptions
{
    public int LinkQuality { get; set; } = ScoreWeights.Default.LinkQuality;

    public int NumaSpan { get; set; } = ScoreWeights.Default.NumaSpan;

    public int NicAffinity { get; set; } = ScoreWeights.Default.NicAffinity;

    public int Leftover { get; set; } = ScoreWeights.Default.Leftover;

    public int Machine { get; set; } = ScoreWeights.Default.Machine;

    public int PlacementGroup { get; set; } = ScoreWeights.Default.PlacementGroup;

    public ScoreWeights ToWeights() => new()
    {
        LinkQuality = LinkQuality,
        NumaSpan = NumaSpan,
        NicAffinity = NicAffinity,
        Leftover = Leftover,
        Machine = Machine,
        PlacementGroup = PlacementGroup,
    };
}
