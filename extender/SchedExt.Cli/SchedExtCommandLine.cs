using System.CommandLine;
using SchedExt.Cli.Commands;

namespace SchedExt.Cli;

/// <summary>The <c>schedext</c> command tree (one file per command under Commands/) and its exit-code policy.</summary>
internal static class SchedExtCommandLine
{
    public static RootCommand Build(CliHost host)
    {
        var root = new RootCommand("SchedExt: topology-aware GPU scheduling for Kubernetes.");
        root.Subcommands.Add(TopoCommand.Create(host));
        root.Subcommands.Add(SimulateCommand.Create(host));
        return root;
    }

    /// <summary>Parses and runs <paramref name="args"/>; returns one of <see cref="ExitCodes"/>.</summary>
    public static async Task<int> RunAsync(string[] args, CliHost host, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        var result = Build(host).Parse(args);
        if (result.Errors.Count > 0)
        {
            // System.CommandLine would exit 1 here; usage errors get their own code so scripts can tell them apart.
            foreach (var error in result.Errors)
            {
                await host.Error.WriteLineAsync($"schedext: error: {error.Message}").ConfigureAwait(false);
            }

            await host.Error.WriteLineAsync("schedext: see 'schedext --help'").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        var invocation = new InvocationConfiguration { Output = host.Out, Error = host.Error, EnableDefaultExceptionHandler = false };
        try
        {
            return await result.InvokeAsync(invocation, cancellationToken).ConfigureAwait(false);
        }
        catch (CliException e)
        {
            await host.Error.WriteLineAsync($"schedext {result.CommandResult.Command.Name}: error: {e.Message}").ConfigureAwait(false);
            return e.ExitCode;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Anything else is a bug: one line for the script, the stack for the person reading the log.
            await host.Error.WriteLineAsync($"schedext {result.CommandResult.Command.Name}: internal error: {e}").ConfigureAwait(false);
            return ExitCodes.Internal;
        }
    }
}
