using System.Globalization;
using Spectre.Console;

namespace SchedExt.Simulator.Results;

/// <summary>The side-by-side table printed at the end of a run: one column per policy, one row per metric.</summary>
internal static class SummaryTable
{
    public static Table Build(IReadOnlyList<PolicyResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var table = new Table().Border(TableBorder.Rounded).Title("Placement by policy");
        table.AddColumn("metric");
        foreach (var r in results)
        {
            table.AddColumn(new TableColumn($"[bold]{Markup.Escape(r.Policy)}[/]").RightAligned());
        }

        Row(table, results, "jobs placed", r => $"{r.Placed:N0} / {r.Jobs:N0}");
        Row(table, results, "never placed (unplaceable)", r => $"{r.NeverPlaced:N0} ({r.Unplaceable:N0})");
        Row(table, results, "multi-GPU jobs on all-NVLink sets", r => Percent(r.NvLinkShare, r.AllNvLink, r.MultiGpuPlaced));
        Row(table, results, "split across NUMA nodes (avoidable)", r => Percent(r.NumaSplitShare, r.NumaSplit, r.NumaAvoidable));
        Row(table, results, "RDMA asked, GPU without near NIC", r => Percent(r.RdmaMissShare, r.RdmaMissed, r.RdmaAsked));
        Row(table, results, "queueing delay mean / p99", r => $"{Duration(r.MeanDelay)} / {Duration(r.P99Delay)}");
        Row(table, results, "mean GPU utilization", r => r.MeanUtilization.ToString("P1", CultureInfo.InvariantCulture));
        Row(table, results, "stranded for 4-GPU NVLink (mean GPUs)", r => r.MeanStranded(0).ToString("N1", CultureInfo.InvariantCulture));
        Row(table, results, "stranded for 8-GPU NVLink (mean GPUs)", r => r.MeanStranded(1).ToString("N1", CultureInfo.InvariantCulture));
        Row(table, results, "makespan", r => Duration(r.Makespan));
        return table;
    }

    private static void Row(Table table, IReadOnlyList<PolicyResult> results, string metric, Func<PolicyResult, string> value) =>
        table.AddRow([Markup.Escape(metric), .. results.Select(r => Markup.Escape(value(r)))]);

    private static string Percent(double share, int part, int whole) =>
        string.Create(CultureInfo.InvariantCulture, $"{share:P1} ({part:N0}/{whole:N0})");

    private static string Duration(double seconds) => seconds switch
    {
        < 60 => string.Create(CultureInfo.InvariantCulture, $"{seconds:0.#} s"),
        < 3600 => string.Create(CultureInfo.InvariantCulture, $"{seconds / 60:0.#} min"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{seconds / 3600:0.#} h"),
    };
}
