using SchedExt.Topology.Requests;
using SchedExt.Topology.Scoring;

namespace SchedExt.Topology.Search;

/// <summary>The outcome of evaluating one request on one node: the best GPU set and its score, or why there is none.</summary>
public readonly struct NodeVerdict
{
    internal NodeVerdict(GpuRequest request, ulong gpus, int setScore, int score, int maxScore)
    {
        Request = request;
        Gpus = gpus;
        SetScore = setScore;
        Score = score;
        MaxScore = maxScore;
        Reason = Infeasibility.None;
    }

    internal NodeVerdict(GpuRequest request, Infeasibility reason, int have, bool unresolvable, Requests.MachineKind machine)
    {
        Request = request;
        Reason = reason;
        Have = have;
        Unresolvable = unresolvable;
        NodeMachine = machine;
    }

    /// <summary>The request evaluated.</summary>
    public GpuRequest Request { get; }

    public bool Feasible => Reason == Infeasibility.None;

    /// <summary>The chosen GPUs as a mask (bit i = GPU index i); 0 when infeasible.</summary>
    public ulong Gpus { get; }

    /// <summary>Weighted sum of the set-dependent parts (link, NUMA, NIC, leftover).</summary>
    public int SetScore { get; }

    /// <summary>Weighted sum of every part, 0..<see cref="MaxScore"/>.</summary>
    public int Score { get; }

    public int MaxScore { get; }

    public Infeasibility Reason { get; }

    /// <summary>For an infeasible verdict, the count the node could offer (free GPUs, matching GPUs, largest group…).</summary>
    public int Have { get; }

    /// <summary>True when the node could not serve the request even if all its GPUs were free: preemption cannot help.</summary>
    public bool Unresolvable { get; }

    /// <summary>The node's machine kind, kept for the reason text.</summary>
    public MachineKind NodeMachine { get; }

    /// <summary>The score on kube-scheduler's 0..10 extender scale, rounded to nearest.</summary>
    public int ProtocolScore => MaxScore <= 0 ? 0 : ((Score * 10) + (MaxScore / 2)) / MaxScore;

    /// <summary>Writes the one-line human reason for an infeasible verdict without allocating.</summary>
    public bool TryFormatReason(Span<char> destination, out int written)
    {
        var r = Request;
        var k = r.Count;
        return Reason switch
        {
            Infeasibility.None => destination.TryWrite($"fits", out written),
            Infeasibility.TooFewGpus => destination.TryWrite($"needs {k} GPUs; node has {Have}", out written),
            Infeasibility.NotEnoughFree => destination.TryWrite($"needs {k} free GPUs; {Have} free", out written),
            Infeasibility.NoMatchingProduct when r.MinMemoryMiB > 0 && r.ProductGlob is not null =>
                destination.TryWrite($"needs {k} free GPUs matching '{r.ProductGlob}' with at least {r.MinMemoryMiB} MiB; {Have} free", out written),
            Infeasibility.NoMatchingProduct when r.ProductGlob is not null =>
                destination.TryWrite($"needs {k} free GPUs matching '{r.ProductGlob}'; {Have} free", out written),
            Infeasibility.NoMatchingProduct => destination.TryWrite($"needs {k} free GPUs with at least {r.MinMemoryMiB} MiB; {Have} free", out written),
            Infeasibility.NotEnoughNearNic => destination.TryWrite($"needs {k} free GPUs each with an RDMA NIC at PIX/PXB distance; {Have} free", out written),
            Infeasibility.LinkTooWeak when Have <= 1 => r.Interconnect switch
            {
                Interconnect.NvLink => destination.TryWrite($"needs {k} NVLink-connected free GPUs; no two free GPUs share NVLink", out written),
                Interconnect.PcieSwitch => destination.TryWrite($"needs {k} free GPUs under shared PCIe switches (PXB or better); no two free GPUs share one", out written),
                _ => destination.TryWrite($"needs {k} free GPUs on one NUMA node (NODE or better); no two free GPUs share one", out written),
            },
            Infeasibility.LinkTooWeak => r.Interconnect switch
            {
                Interconnect.NvLink => destination.TryWrite($"needs {k} NVLink-connected free GPUs; largest free NVLink group is {Have}", out written),
                Interconnect.PcieSwitch => destination.TryWrite($"needs {k} free GPUs under shared PCIe switches (PXB or better); largest such free group is {Have}", out written),
                _ => destination.TryWrite($"needs {k} free GPUs on one NUMA node (NODE or better); largest such free group is {Have}", out written),
            },
            Infeasibility.MachineKindMismatch => r.Machine == MachinePolicy.RequireBareMetal
                ? NodeMachine == MachineKind.Vm
                    ? destination.TryWrite($"bare metal required; node is a VM", out written)
                    : destination.TryWrite($"bare metal required; node's machine kind is unknown", out written)
                : NodeMachine == MachineKind.BareMetal
                    ? destination.TryWrite($"VM required; node is bare metal", out written)
                    : destination.TryWrite($"VM required; node's machine kind is unknown", out written),
            Infeasibility.NoTopology => destination.TryWrite($"interconnect={SchedExtKeys.Format(r.Interconnect)} rdma={SchedExtKeys.Format(r.Nic)} needs the node's schedext.io/topology annotation; node has none", out written),
            _ => destination.TryWrite($"not placeable", out written),
        };
    }

    /// <summary>The human reason as a string (allocates; for logs, events and tests).</summary>
    public string ReasonText()
    {
        Span<char> buffer = stackalloc char[512];
        return TryFormatReason(buffer, out var written) ? new string(buffer[..written]) : Reason.ToString();
    }

    public override string ToString() => Feasible ? $"fits GPUs 0x{Gpus:x} score {Score}/{MaxScore}" : ReasonText();
}
