using ScottPlot;

namespace SchedExt.Simulator.Results;

/// <summary>The PNG charts (ScottPlot, rendered by SkiaSharp): timelines per policy and the quality metrics side by side.</summary>
internal static class Charts
{
    private const int Width = 1200;
    private const int Height = 600;

    /// <summary>Writes every chart into <paramref name="directory"/>; returns the files written.</summary>
    public static IReadOnlyList<string> WriteAll(IReadOnlyList<PolicyResult> results, string directory)
    {
        ArgumentNullException.ThrowIfNull(results);
        var grid = CsvReports.Grid(results);
        var hours = grid.Select(t => t / 3600).ToArray();
        var files = new List<string>
        {
            Timeline(results, grid, hours, Path.Combine(directory, "utilization.png"), "GPU utilization over time", "GPUs in use / all GPUs", (r, p) => r.TotalGpus == 0 ? 0 : (double)p.UsedGpus / r.TotalGpus),
            Timeline(results, grid, hours, Path.Combine(directory, "pending.png"), "Jobs waiting over time", "pending jobs", (_, p) => p.Pending),
            Timeline(results, grid, hours, Path.Combine(directory, "fragmentation.png"), "Free GPUs that cannot serve a 4-GPU NVLink job", "stranded GPUs", (_, p) => p.StrandedNvLink4),
            Bars(results, Path.Combine(directory, "quality.png"), "Placement quality per policy (lower is better except all-NVLink)", "share of jobs",
            [
                ("multi-GPU jobs on all-NVLink sets", r => r.NvLinkShare),
                ("split across NUMA nodes", r => r.NumaSplitShare),
                ("RDMA asked, GPU without near NIC", r => r.RdmaMissShare),
                ("never placed", r => r.Jobs == 0 ? 0 : (double)r.NeverPlaced / r.Jobs),
                ("mean utilization", r => r.MeanUtilization),
            ]),
            Bars(results, Path.Combine(directory, "delay.png"), "Queueing delay per policy", "minutes",
            [
                ("mean", r => r.MeanDelay / 60),
                ("p99", r => r.P99Delay / 60),
            ]),
        };
        return files;
    }

    private static string Timeline(IReadOnlyList<PolicyResult> results, double[] grid, double[] hours, string path, string title, string yLabel, Func<PolicyResult, TimelinePoint, double> value)
    {
        var plot = new Plot();
        for (var i = 0; i < results.Count; i++)
        {
            var r = results[i];
            var ys = grid.Select(t => value(r, r.Timeline.At(t))).ToArray();
            var line = plot.Add.ScatterLine(hours, ys, ColorOf(i));
            line.LegendText = r.Policy;
            line.LineWidth = 2;
        }

        // Every series is a count or share: start the axes at zero rather than at a negative margin.
        plot.Axes.Margins(left: 0, bottom: 0);
        plot.Title(title);
        plot.XLabel("hours since the start of the trace");
        plot.YLabel(yLabel);
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, Width, Height);
        return path;
    }

    private static string Bars(IReadOnlyList<PolicyResult> results, string path, string title, string yLabel, (string Label, Func<PolicyResult, double> Value)[] metrics)
    {
        var plot = new Plot();
        var bars = new List<Bar>();
        var ticks = new List<Tick>();
        var stride = results.Count + 1;
        for (var m = 0; m < metrics.Length; m++)
        {
            for (var p = 0; p < results.Count; p++)
            {
                bars.Add(new Bar { Position = (m * stride) + p, Value = metrics[m].Value(results[p]), FillColor = ColorOf(p) });
            }

            ticks.Add(new Tick((m * stride) + ((results.Count - 1) / 2.0), metrics[m].Label));
        }

        plot.Add.Bars(bars);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. ticks]);
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        for (var p = 0; p < results.Count; p++)
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = results[p].Policy, FillColor = ColorOf(p) });
        }

        plot.Axes.Margins(bottom: 0);
        plot.Title(title);
        plot.YLabel(yLabel);
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, Width, Height);
        return path;
    }

    private static Color ColorOf(int index) => new ScottPlot.Palettes.Category10().GetColor(index);
}
