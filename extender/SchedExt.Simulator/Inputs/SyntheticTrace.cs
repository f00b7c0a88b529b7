using System.Globalization;
using SchedExt.Simulator.Engine;
using SchedExt.Topology.Requests;

namespace SchedExt.Simulator.Inputs;

/// <summary>
/// A seeded synthetic workload shaped like a mixed training/inference cluster. Per job: GPU count 1 (35%), 2 (20%),
/// 4 (25%) or 8 (20%); the weakest link asked for grows with size (2 GPUs: 50% nvlink, 25% pcie-switch; 4: 70% nvlink,
/// 30% numa; 8: 80% nvlink); RDMA required for 40% and preferred for 30% of 8-GPU jobs, preferred for 30% of 4-GPU
/// jobs; machine kind any (80%), preferred-bare-metal (15%) or bare-metal (5%); 30% of 8-GPU jobs in one of 20
/// placement groups. Durations are exponential with a mean of one hour (at least a minute); arrivals are Poisson at the
/// rate that offers <c>load</c> × the cluster's GPUs on average. Times are whole seconds.
/// </summary>
internal static class SyntheticTrace
{
    public const double DefaultLoad = 0.9;
    private const double MeanDuration = 3600;
    private const double MinDuration = 60;
    private const double MeanGpus = (0.35 * 1) + (0.20 * 2) + (0.25 * 4) + (0.20 * 8);

    /// <summary>Generates <paramref name="count"/> jobs for a cluster of <paramref name="totalGpus"/> GPUs; the same inputs give the same jobs.</summary>
    public static IReadOnlyList<SimJob> Generate(int count, ulong seed, int totalGpus, double load = DefaultLoad)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(totalGpus);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(load);
        var random = new SeededRandom(seed);
        var rate = load * totalGpus / (MeanGpus * MeanDuration);
        var jobs = new List<SimJob>(count);
        var clock = 0.0;
        for (var i = 0; i < count; i++)
        {
            clock += Exponential(random, 1 / rate);
            var gpus = Pick(random, (0.35, 1), (0.20, 2), (0.25, 4), (0.20, 8));
            var interconnect = gpus switch
            {
                2 => Pick(random, (0.50, Interconnect.NvLink), (0.25, Interconnect.PcieSwitch), (0.25, Interconnect.Any)),
                4 => Pick(random, (0.70, Interconnect.NvLink), (0.30, Interconnect.Numa)),
                8 => Pick(random, (0.80, Interconnect.NvLink), (0.20, Interconnect.Any)),
                _ => Interconnect.Any,
            };
            var nic = gpus switch
            {
                8 => Pick(random, (0.40, NicNeed.Required), (0.30, NicNeed.Preferred), (0.30, NicNeed.None)),
                4 => Pick(random, (0.30, NicNeed.Preferred), (0.70, NicNeed.None)),
                _ => NicNeed.None,
            };
            var machine = Pick(random, (0.80, MachinePolicy.Any), (0.15, MachinePolicy.PreferBareMetal), (0.05, MachinePolicy.RequireBareMetal));
            string? group = null;
            if (gpus == 8 && random.NextDouble() < 0.30)
            {
                group = string.Create(CultureInfo.InvariantCulture, $"group-{random.Next(20) + 1:D2}");
            }

            var duration = Math.Max(MinDuration, Math.Round(Exponential(random, MeanDuration)));
            jobs.Add(new SimJob(i, Math.Round(clock), duration, new GpuRequest(gpus, interconnect, nic, machine), group));
        }

        return jobs;
    }

    private static double Exponential(SeededRandom random, double mean) => -mean * Math.Log(1 - random.NextDouble());

    private static T Pick<T>(SeededRandom random, params ReadOnlySpan<(double Weight, T Value)> choices)
    {
        var u = random.NextDouble();
        foreach (var (weight, value) in choices)
        {
            if (u < weight)
            {
                return value;
            }

            u -= weight;
        }

        return choices[^1].Value;
    }
}
