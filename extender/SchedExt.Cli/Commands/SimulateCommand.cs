using System.CommandLine;
using SchedExt.Simulator;
using Spectre.Console;

namespace SchedExt.Cli.Commands;

/// <summary>
/// <c>schedext simulate</c>: replays a workload trace against a cluster snapshot under SchedExt's placement and the
/// topology-blind baselines, prints the comparison and writes CSV files and PNG charts (docs/simulate.md).
/// </summary>
internal static class SimulateCommand
{
    public static Command Create(CliHost host)
    {
        var cluster = new Option<string?>("--cluster") { Description = "Cluster snapshot: YAML/JSON of Nodes and Pods (as `kubectl get nodes,pods -A -o yaml` prints).", HelpName = "file" };
        var clusterSpec = new Option<string?>("--cluster-spec") { Description = "Generated cluster, e.g. \"400x hgx-h200,200x dgx1-v100,100x pcie8-two-socket:vm\".", HelpName = "spec" };
        var trace = new Option<string?>("--trace") { Description = "Workload trace: CSV with a header row, or YAML (.yaml/.yml).", HelpName = "file" };
        var synthetic = new Option<int?>("--synthetic-jobs") { Description = "Generate a synthetic trace of this many jobs instead of --trace.", HelpName = "n" };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the synthetic trace and the random policy.", DefaultValueFactory = _ => 1 };
        var load = new Option<double>("--load") { Description = "Offered load of the synthetic trace as a share of the cluster's GPUs.", DefaultValueFactory = _ => 0.9 };
        var policies = new Option<string>("--policies")
        {
            Description = $"Comma-separated policies to compare: {string.Join(", ", SimulationSettings.AllPolicies)}.",
            DefaultValueFactory = _ => string.Join(',', SimulationSettings.AllPolicies),
        };
        var output = new Option<string?>("--out") { Description = "Directory for summary.csv, timeline.csv, placements.csv and the PNG charts.", HelpName = "dir" };
        var noProgress = new Option<bool>("--no-progress") { Description = "Do not draw a progress bar." };

        var command = new Command("simulate", "What-if placement: replay a workload on a cluster snapshot under SchedExt and topology-blind baselines.")
        {
            cluster, clusterSpec, trace, synthetic, seed, load, policies, output, noProgress,
        };
        command.Validators.Add(result =>
        {
            if ((result.GetValue(cluster) is null) == (result.GetValue(clusterSpec) is null))
            {
                result.AddError("give exactly one of --cluster FILE or --cluster-spec SPEC");
            }

            if ((result.GetValue(trace) is null) == (result.GetValue(synthetic) is null))
            {
                result.AddError("give exactly one of --trace FILE or --synthetic-jobs N");
            }

            if (result.GetValue(synthetic) is < 1)
            {
                result.AddError("--synthetic-jobs must be at least 1");
            }

            if (result.GetResult(load) is not null && !(result.GetValue(load) > 0))
            {
                result.AddError("--load must be positive");
            }

            foreach (var name in Split(result.GetValue(policies) ?? string.Empty))
            {
                if (!SimulationSettings.AllPolicies.Contains(name, StringComparer.Ordinal))
                {
                    result.AddError($"--policies: unknown policy '{name}'; known: {string.Join(", ", SimulationSettings.AllPolicies)}");
                }
            }
        });

        command.SetAction(parse =>
        {
            var settings = new SimulationSettings
            {
                ClusterFile = parse.GetValue(cluster),
                ClusterSpec = parse.GetValue(clusterSpec),
                TraceFile = parse.GetValue(trace),
                SyntheticJobs = parse.GetValue(synthetic),
                Seed = parse.GetValue(seed),
                Load = parse.GetValue(load),
                Policies = Split(parse.GetValue(policies) ?? string.Join(',', SimulationSettings.AllPolicies)),
                OutputDirectory = parse.GetValue(output),
                Progress = !parse.GetValue(noProgress),
            };
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(host.Out) });
            try
            {
                SimulationConsole.Run(settings, console);
            }
            catch (Exception e) when (e is InvalidDataException or FormatException)
            {
                throw new CliException(ExitCodes.InputInvalid, e.Message, e);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
            {
                throw new CliException(ExitCodes.InputUnavailable, e.Message, e);
            }
            catch (ArgumentException e)
            {
                throw new CliException(ExitCodes.Usage, e.Message, e);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static string[] Split(string value) => value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
}
