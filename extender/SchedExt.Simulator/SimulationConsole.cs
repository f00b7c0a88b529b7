using System.Globalization;
using SchedExt.Simulator.Inputs;
using SchedExt.Simulator.Results;
using Spectre.Console;

namespace SchedExt.Simulator;

/// <summary>
/// The whole of <c>schedext simulate</c> behind the command-line parsing: load, simulate (with a progress bar), print
/// the table and write the CSV files and charts. Input errors surface as <see cref="InvalidDataException"/> (file
/// content, message names the line), <see cref="FormatException"/> (cluster spec), <see cref="ArgumentException"/>
/// (settings) or <see cref="IOException"/> (files).
/// </summary>
internal static class SimulationConsole
{
    public static IReadOnlyList<PolicyResult> Run(SimulationSettings settings, IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(console);
        settings.Validate();
        var cluster = SimulationRunner.LoadCluster(settings);
        var jobs = SimulationRunner.LoadJobs(settings, cluster);
        console.MarkupLine(CultureInfo.InvariantCulture, "Cluster: [bold]{0}[/] GPU nodes, {1} GPUs ({2}); trace: {3} jobs.",
            cluster.Nodes.Count, cluster.TotalGpus, Markup.Escape(cluster.Description), jobs.Count);

        IReadOnlyList<PolicyResult> results;
        if (settings.Progress)
        {
            results = [];
            console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .Start(context =>
                {
                    var tasks = settings.Policies.ToDictionary(p => p, p => context.AddTask(p, maxValue: Math.Max(1, jobs.Count)), StringComparer.Ordinal);
                    results = SimulationRunner.Run(settings, cluster, jobs, (policy, done) => tasks[policy].Value = done);
                });
        }
        else
        {
            results = SimulationRunner.Run(settings, cluster, jobs);
        }

        console.Write(SummaryTable.Build(results));
        if (settings.OutputDirectory is { } directory)
        {
            foreach (var file in WriteFiles(results, jobs, directory, settings.TraceFile is null))
            {
                console.MarkupLine(CultureInfo.InvariantCulture, "wrote {0}", Markup.Escape(file));
            }
        }

        return results;
    }

    /// <summary>Writes summary.csv, timeline.csv, placements.csv (and trace.csv for a synthetic trace) and the charts.</summary>
    public static IReadOnlyList<string> WriteFiles(IReadOnlyList<PolicyResult> results, IReadOnlyList<SimJob> jobs, string directory, bool writeTrace)
    {
        Directory.CreateDirectory(directory);
        var files = new List<string>();
        void Write(string name, string text)
        {
            var path = Path.Combine(directory, name);
            File.WriteAllText(path, text);
            files.Add(path);
        }

        Write("summary.csv", CsvReports.Summary(results));
        Write("timeline.csv", CsvReports.Timeline(results));
        var placements = Path.Combine(directory, "placements.csv");
        using (var writer = new StreamWriter(placements))
        {
            CsvReports.WritePlacements(results, jobs, writer);
        }

        files.Add(placements);
        if (writeTrace)
        {
            Write("trace.csv", TraceWriter.ToCsv(jobs));
        }

        files.AddRange(Charts.WriteAll(results, directory));
        return files;
    }
}
