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
        // PERF: numbers go through int.TryFormat, not an interpolated-string handler, whose generic AppendFormatted
        // boxes value types in unoptimised (tier-0 / instrumented) code: filter formats one reason per failing node.
        var r = Request;
        var k = r.Count;
        var w = new ReasonWriter(destination);
        switch (Reason)
        {
            case Infeasibility.None:
                w.Add("fits");
                break;
            case Infeasibility.TooFewGpus:
                w.Add("needs ").Add(k).Add(" GPUs; node has ").Add(Have);
                break;
            case Infeasibility.NotEnoughFree:
                w.Add("needs ").Add(k).Add(k == 1 ? " free GPU; " : " free GPUs; ").Add(Have).Add(" free");
                break;
            case Infeasibility.NoMatchingProduct:
                w.Add("needs ").Add(k).Add(k == 1 ? " free GPU" : " free GPUs");
                if (r.ProductGlob is not null)
                {
                    w.Add(" matching '").Add(r.ProductGlob).Add("'");
                }

                if (r.MinMemoryMiB > 0)
                {
                    w.Add(" with at least ").Add(r.MinMemoryMiB).Add(" MiB");
                }

                w.Add("; ").Add(Have).Add(Have == 1 ? " free GPU does" : " free GPUs do");
                break;
            case Infeasibility.NotEnoughNearNic:
                w.Add("needs ").Add(k).Add(k == 1 ? " free GPU with" : " free GPUs each with").Add(" an RDMA NIC at PIX/PXB distance; ")
                    .Add(Have).Add(Have == 1 ? " free GPU has one" : " free GPUs have one");
                break;
            case Infeasibility.LinkTooWeak:
                w.Add("needs ").Add(k).Add(r.Interconnect switch
                {
                    Interconnect.NvLink => " NVLink-connected free GPUs; ",
                    Interconnect.PcieSwitch => " free GPUs under shared PCIe switches (PXB or better); ",
                    _ => " free GPUs linked at NODE or better (one NUMA node, or NVLink); ",
                });
                // The group is counted among the GPUs that meet the pod's other needs, not among all free ones: say so.
                var gpuNeeds = r.ProductGlob is not null || r.MinMemoryMiB > 0;
                var needs = r.Nic == NicNeed.Required ? (gpuNeeds ? "NIC and GPU" : "NIC") : gpuNeeds ? "GPU" : null;
                if (Have <= 1)
                {
                    w.Add("no two free GPUs");
                    if (needs is not null)
                    {
                        w.Add(" that also meet the pod's ").Add(needs).Add(" requirements");
                    }

                    w.Add(r.Interconnect == Interconnect.NvLink ? " share NVLink" : " share one");
                }
                else
                {
                    w.Add(r.Interconnect == Interconnect.NvLink ? "largest free NVLink group" : "largest such free group");
                    if (needs is not null)
                    {
                        w.Add(" of GPUs that also meet the pod's ").Add(needs).Add(" requirements");
                    }

                    w.Add(" is ").Add(Have);
                }

                break;
            case Infeasibility.MachineKindMismatch:
                w.Add(r.Machine == MachinePolicy.RequireBareMetal
                    ? NodeMachine == MachineKind.Vm ? "bare metal required; node is a VM" : "bare metal required; node's machine kind is unknown"
                    : NodeMachine == MachineKind.BareMetal ? "VM required; node is bare metal" : "VM required; node's machine kind is unknown");
                break;
            case Infeasibility.GpuMemoryUnknown:
                w.Add("needs ").Add(k).Add(" GPUs with at least ").Add(r.MinMemoryMiB).Add(" MiB; the memory of ").Add(Have)
                    .Add(Have == 1 ? " GPU is" : " GPUs is").Add(" unknown (no usable memMiB in schedext.io/topology or nvidia.com/gpu.memory label)");
                break;
            case Infeasibility.NoTopology:
                w.Add("interconnect=").Add(SchedExtKeys.Format(r.Interconnect)).Add(" rdma=").Add(SchedExtKeys.Format(r.Nic))
                    .Add(" needs the node's schedext.io/topology annotation; it is missing or unusable");
                break;
            default:
                w.Add("not placeable");
                break;
        }

        return w.Done(out written);
    }

    /// <summary>Appends text and integers to a span; remembers overflow instead of throwing.</summary>
    private ref struct ReasonWriter(Span<char> destination)
    {
        private readonly Span<char> _destination = destination;
        private int _length;
        private bool _overflow;

        [System.Diagnostics.CodeAnalysis.UnscopedRef]
        public ref ReasonWriter Add(ReadOnlySpan<char> text)
        {
            if (!_overflow && text.TryCopyTo(_destination[_length..]))
            {
                _length += text.Length;
            }
            else
            {
                _overflow = true;
            }

            return ref this;
        }

        [System.Diagnostics.CodeAnalysis.UnscopedRef]
        public ref ReasonWriter Add(int value)
        {
            if (!_overflow && value.TryFormat(_destination[_length..], out var n, default, System.Globalization.CultureInfo.InvariantCulture))
            {
                _length += n;
            }
            else
            {
                _overflow = true;
            }

            return ref this;
        }

        public readonly bool Done(out int written)
        {
            written = _overflow ? 0 : _length;
            return !_overflow;
        }
    }

    /// <summary>The human reason as a string (allocates; for logs, events and tests).</summary>
    public string ReasonText()
    {
        Span<char> buffer = stackalloc char[512];
        if (TryFormatReason(buffer, out var written))
        {
            return new string(buffer[..written]);
        }

        // Only a long product glob makes a reason this long; the text grows with it, so this ends.
        for (var size = 4096; ; size *= 2)
        {
            var larger = new char[size];
            if (TryFormatReason(larger, out written))
            {
                return new string(larger, 0, written);
            }
        }
    }

    public override string ToString() => Feasible ? $"fits GPUs 0x{Gpus:x} score {Score}/{MaxScore}" : ReasonText();
}
