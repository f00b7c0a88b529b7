namespace SchedExt.Cli;

/// <summary>Entry point of the <c>schedext</c> command-line tool and node agent.</summary>
internal static class Program
{
    private static Task<int> Main(string[] args) => SchedExtCommandLine.RunAsync(args, CliHost.FromConsole());
}
