using System.Globalization;
using System.Text;
using SchedExt.Extender.State;

namespace SchedExt.Simulator.Results;

/// <summary>
/// The CSV outputs. Byte-identical for the same inputs and seed: invariant culture, fixed number formats, LF line ends,
/// rows in policy order then time or job order, nothing that depends on the clock or the machine.
/// </summary>
internal static class CsvReports
{
    /// <summary>Samples on the common time grid of the timeline CSV and charts.</summary>
    public const int TimelineSamples = 500;

    public static string Summary(IReadOnlyList<PolicyResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var text = new StringBuilder();
        text.Append("policy,jobs,placed,never_placed,unplaceable,multi_gpu_placed,all_nvlink,all_nvlink_share,numa_local_possible,numa_split,numa_split_share,")
            .Append("rdma_asked,rdma_without_near_nic,rdma_without_near_nic_share,queue_delay_mean_s,queue_delay_p99_s,makespan_s,utilization_mean,")
            .Append("stranded_nvlink4_mean,stranded_nvlink8_mean\n");
        foreach (var r in results)
        {
            text.Append(CultureInfo.InvariantCulture, $"{r.Policy},{r.Jobs},{r.Placed},{r.NeverPlaced},{r.Unplaceable},{r.MultiGpuPlaced},{r.AllNvLink},{Share(r.NvLinkShare)},")
                .Append(CultureInfo.InvariantCulture, $"{r.NumaAvoidable},{r.NumaSplit},{Share(r.NumaSplitShare)},{r.RdmaAsked},{r.RdmaMissed},{Share(r.RdmaMissShare)},")
                .Append(CultureInfo.InvariantCulture, $"{Seconds(r.MeanDelay)},{Seconds(r.P99Delay)},{Seconds(r.Makespan)},{Share(r.MeanUtilization)},")
                .Append(CultureInfo.InvariantCulture, $"{Gpus(r.MeanStranded(0))},{Gpus(r.MeanStranded(1))}\n");
        }

        return text.ToString();
    }

    /// <summary>Every policy's state on one grid of <see cref="TimelineSamples"/> instants over [0, the longest makespan].</summary>
    public static string Timeline(IReadOnlyList<PolicyResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var text = new StringBuilder();
        text.Append("policy,time_s,used_gpus,utilization,pending_jobs,free_gpus,stranded_nvlink4,stranded_nvlink8\n");
        var grid = Grid(results);
        foreach (var r in results)
        {
            foreach (var t in grid)
            {
                var p = r.Timeline.At(t);
                var utilization = r.TotalGpus == 0 ? 0 : (double)p.UsedGpus / r.TotalGpus;
                text.Append(CultureInfo.InvariantCulture, $"{r.Policy},{Seconds(t)},{p.UsedGpus},{Share(utilization)},{p.Pending},{p.FreeGpus},{p.StrandedNvLink4},{p.StrandedNvLink8}\n");
            }
        }

        return text.ToString();
    }

    /// <summary>One row per job and policy: where it ran and after how long a wait (empty node for never placed).</summary>
    public static void WritePlacements(IReadOnlyList<PolicyResult> results, IReadOnlyList<Inputs.SimJob> jobs, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(jobs);
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write("policy,job,arrival_s,gpus_requested,node,gpus,queue_delay_s\n");
        foreach (var r in results)
        {
            for (var i = 0; i < jobs.Count; i++)
            {
                var node = r.NodeOf[i];
                var where = node < 0 ? "," : $"{r.NodeNames[node]},\"{AssignedGpus.Format(r.GpusOf[i])}\"";
                var delay = node < 0 ? string.Empty : Seconds(r.DelayOf[i]);
                writer.Write(string.Create(CultureInfo.InvariantCulture, $"{r.Policy},{i},{Seconds(jobs[i].Arrival)},{jobs[i].Request.Count},{where},{delay}\n"));
            }
        }
    }

    /// <summary>The common time grid: <see cref="TimelineSamples"/> evenly spaced instants from 0 to the longest makespan.</summary>
    public static double[] Grid(IReadOnlyList<PolicyResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var end = results.Count == 0 ? 0 : results.Max(r => r.Makespan);
        var grid = new double[TimelineSamples];
        for (var i = 0; i < grid.Length; i++)
        {
            grid[i] = end * i / (grid.Length - 1);
        }

        return grid;
    }

    private static string Share(double value) => value.ToString("0.0000", CultureInfo.InvariantCulture);

    private static string Seconds(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Gpus(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);
}
