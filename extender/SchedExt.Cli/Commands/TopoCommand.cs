using System.CommandLine;
using System.CommandLine.Parsing;
using k8s;
using SchedExt.Cli.Topo;
using SchedExt.Topology.Annotation;
using SchedExt.Topology.Model;
using SchedExt.Topology.Parsing;
using SchedExt.Topology.Requests;

namespace SchedExt.Cli.Commands;

/// <summary>
/// <c>schedext topo</c>: turns <c>nvidia-smi topo -m</c> output into the <c>schedext.io/topology</c> annotation value,
/// prints it, and with <c>--node NAME --apply</c> writes it onto the Node (with <c>--interval</c>, again and again: the node agent).
/// </summary>
internal static class TopoCommand
{
    private const string Stdin = "-";
    private static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(10);

    /// <summary>Longest --interval: a week (the wait must also stay within what a timer can wait, about 24.8 days).</summary>
    private static readonly TimeSpan MaxInterval = TimeSpan.FromDays(7);

    public static Command Create(CliHost host)
    {
        var file = new Option<string?>("--file", "-f")
        {
            Description = "Read `nvidia-smi topo -m` output from this file ('-' for standard input) instead of running nvidia-smi.",
            HelpName = "path",
        };
        var inventory = new Option<string?>("--gpu-inventory")
        {
            Description = $"With --file: also read `nvidia-smi {GpuInventoryParser.Arguments}` output (GPU UUIDs, models, memory) from this file.",
            HelpName = "path",
        };
        var nvidiaSmi = new Option<string>("--nvidia-smi")
        {
            Description = "The nvidia-smi program to run when --file is not given.",
            DefaultValueFactory = _ => "nvidia-smi",
            HelpName = "path",
        };
        var node = new Option<string?>("--node") { Description = "The Node to annotate (with --apply).", HelpName = "name" };
        var apply = new Option<bool>("--apply") { Description = "Patch the annotation onto --node (only when the hardware it describes changed)." };
        var kubeconfig = new Option<string?>("--kubeconfig")
        {
            Description = "Kubeconfig file; default: KUBECONFIG, ~/.kube/config, then the pod's service account.",
            HelpName = "path",
        };
        var interval = new Option<TimeSpan?>("--interval")
        {
            Description = "With --apply: keep running, re-reading the topology and refreshing the annotation at this interval (e.g. 10m).",
            HelpName = "duration",
            CustomParser = ParseInterval,
        };

        var command = new Command("topo", "Print the schedext.io/topology annotation of this machine's GPUs, and optionally apply it to a Node.")
        {
            file, inventory, nvidiaSmi, node, apply, kubeconfig, interval,
        };
        command.Validators.Add(result =>
        {
            var hasNode = result.GetValue(node) is not null;
            var applying = result.GetValue(apply);
            if (applying && !hasNode)
            {
                result.AddError("--apply needs --node NAME");
            }
            else if (hasNode && !applying)
            {
                result.AddError("--node is only used with --apply");
            }

            if (result.GetResult(interval) is not null && !applying)
            {
                result.AddError("--interval is only used with --apply");
            }

            if (result.GetResult(interval) is not null && result.GetValue(file) == Stdin)
            {
                result.AddError("--interval reads the input again on every pass; standard input can be read only once (give a file path)");
            }

            if (result.GetValue(inventory) is { } inventoryPath)
            {
                if (result.GetValue(file) is null)
                {
                    result.AddError("--gpu-inventory is only used with --file (otherwise nvidia-smi is asked)");
                }
                else if (inventoryPath == Stdin && result.GetValue(file) == Stdin)
                {
                    result.AddError("--file and --gpu-inventory cannot both read standard input");
                }
            }
        });

        command.SetAction(async (parse, cancellationToken) =>
        {
            var source = new TopologySource(host, parse.GetValue(file), parse.GetValue(inventory), parse.GetValue(nvidiaSmi)!);
            var nodeName = parse.GetValue(node);
            if (nodeName is null)
            {
                var (_, annotation) = await source.ReadAsync(cancellationToken).ConfigureAwait(false);
                await host.Out.WriteLineAsync(annotation).ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            using var client = NodeAnnotator.Connect(parse.GetValue(kubeconfig));
            return parse.GetValue(interval) is { } every
                ? await RunAgentAsync(host, source, client, nodeName, every, cancellationToken).ConfigureAwait(false)
                : await ApplyOnceAsync(host, source, client, nodeName, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> ApplyOnceAsync(CliHost host, TopologySource source, IKubernetes client, string nodeName, CancellationToken cancellationToken)
    {
        var (topology, annotation) = await source.ReadAsync(cancellationToken).ConfigureAwait(false);
        var change = await NodeAnnotator.ApplyAsync(client, nodeName, topology, annotation, cancellationToken).ConfigureAwait(false);
        await host.Out.WriteLineAsync(annotation).ConfigureAwait(false);
        await host.Error.WriteLineAsync(Status(nodeName, topology, change)).ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    // The node agent: runs until the pod is stopped. API failures are retried at the next tick (the API server may be
    // restarting); a broken nvidia-smi or unreadable output ends the process, so the pod's restarts make it visible.
    private static async Task<int> RunAgentAsync(CliHost host, TopologySource source, IKubernetes client, string nodeName, TimeSpan every, CancellationToken cancellationToken)
    {
        await host.Error.WriteLineAsync($"schedext topo: node {nodeName}: refreshing {SchedExtKeys.Topology} every {every}").ConfigureAwait(false);
        try
        {
            while (true)
            {
                try
                {
                    var (topology, annotation) = await source.ReadAsync(cancellationToken).ConfigureAwait(false);
                    var change = await NodeAnnotator.ApplyAsync(client, nodeName, topology, annotation, cancellationToken).ConfigureAwait(false);
                    await host.Error.WriteLineAsync(Status(nodeName, topology, change)).ConfigureAwait(false);
                }
                catch (CliException e) when (e.ExitCode == ExitCodes.ClusterError)
                {
                    await host.Error.WriteLineAsync($"schedext topo: warning: {e.Message}; retrying in {every}").ConfigureAwait(false);
                }

                await Task.Delay(every, host.Time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await host.Error.WriteLineAsync($"schedext topo: node {nodeName}: stopped").ConfigureAwait(false);
            return ExitCodes.Ok;
        }
    }

    private static string Status(string nodeName, NodeTopology topology, AnnotationChange change) =>
        $"schedext topo: node {nodeName}: {SchedExtKeys.Topology} {(change == AnnotationChange.Updated ? "updated" : "unchanged")} ({topology.GpuCount} GPUs, {topology.Nics.Count} NICs)";

    private static TimeSpan? ParseInterval(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        if (!Duration.TryParse(text, out var value))
        {
            result.AddError($"--interval '{text}' is not a duration such as 30s, 10m or 1h");
            return null;
        }

        if (value < MinInterval)
        {
            result.AddError($"--interval {text} is shorter than {MinInterval.TotalSeconds:0}s");
            return null;
        }

        if (value > MaxInterval)
        {
            result.AddError($"--interval {text} is longer than {MaxInterval.TotalHours:0}h");
            return null;
        }

        return value;
    }
}
