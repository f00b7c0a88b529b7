namespace SchedExt.Simulator.Results;

/// <summary>Everything one policy's simulation produced: per-job placements, quality counters and the timeline.</summary>
internal sealed class PolicyResult(string policy, int jobs, int totalGpus)
{
    public string Policy { get; } = policy;

    public int Jobs { get; } = jobs;

    public int TotalGpus { get; } = totalGpus;

    /// <summary>Per job (by id): the node index it ran on, or -1 when never placed.</summary>
    public int[] NodeOf { get; } = Filled(jobs, -1);

    /// <summary>Per job: the GPUs it got (0 when never placed).</summary>
    public ulong[] GpusOf { get; } = new ulong[jobs];

    /// <summary>Per job: seconds from arrival to placement (NaN when never placed).</summary>
    public double[] DelayOf { get; } = Filled(jobs, double.NaN);

    /// <summary>Node names by index, to report placements.</summary>
    public IReadOnlyList<string> NodeNames { get; set; } = [];

    public int Placed { get; set; }

    /// <summary>Jobs no node could take even empty (dropped on arrival).</summary>
    public int Unplaceable { get; set; }

    /// <summary>Jobs still waiting when nothing was left to run.</summary>
    public int StillPending { get; set; }

    public int NeverPlaced => Unplaceable + StillPending;

    public int MultiGpuPlaced { get; set; }

    /// <summary>Placed multi-GPU jobs whose every GPU pair is NVLink-joined.</summary>
    public int AllNvLink { get; set; }

    /// <summary>Placed multi-GPU jobs that could have stayed on one NUMA node of their node (count ≤ its fullest NUMA node).</summary>
    public int NumaAvoidable { get; set; }

    /// <summary>Of <see cref="NumaAvoidable"/>, those whose GPUs span NUMA nodes.</summary>
    public int NumaSplit { get; set; }

    /// <summary>Placed jobs with <c>rdma</c> required or preferred.</summary>
    public int RdmaAsked { get; set; }

    /// <summary>Of <see cref="RdmaAsked"/>, those with at least one GPU without a NIC at PIX/PXB distance.</summary>
    public int RdmaMissed { get; set; }

    /// <summary>Time of the last event (last release or arrival), seconds.</summary>
    public double Makespan { get; set; }

    /// <summary>∫ GPUs in use dt over [0, makespan] (snapshot pods included).</summary>
    public double UsedGpuSeconds { get; set; }

    /// <summary>∫ stranded GPUs dt per NVLink job size (see <c>ShapeFacts.FragmentSizes</c>).</summary>
    public double[] StrandedGpuSeconds { get; } = new double[Engine.ShapeFacts.FragmentSizes.Count];

    public Timeline Timeline { get; } = new();

    public double MeanDelay => Placed == 0 ? 0 : DelayOf.Where(d => !double.IsNaN(d)).Average();

    /// <summary>The 99th percentile of queueing delay by nearest rank over placed jobs.</summary>
    public double P99Delay
    {
        get
        {
            var delays = DelayOf.Where(d => !double.IsNaN(d)).Order().ToArray();
            return delays.Length == 0 ? 0 : delays[Math.Max(0, (int)Math.Ceiling(0.99 * delays.Length) - 1)];
        }
    }

    public double NvLinkShare => Ratio(AllNvLink, MultiGpuPlaced);

    public double NumaSplitShare => Ratio(NumaSplit, NumaAvoidable);

    public double RdmaMissShare => Ratio(RdmaMissed, RdmaAsked);

    public double MeanUtilization => Makespan <= 0 || TotalGpus == 0 ? 0 : UsedGpuSeconds / (Makespan * TotalGpus);

    public double MeanStranded(int sizeIndex) => Makespan <= 0 ? 0 : StrandedGpuSeconds[sizeIndex] / Makespan;

    private static double Ratio(int part, int whole) => whole == 0 ? 0 : (double)part / whole;

    private static T[] Filled<T>(int length, T value)
    {
        var array = new T[length];
        array.AsSpan().Fill(value);
        return array;
    }
}
