namespace SchedExt.Cli.Tests;

/// <summary>Runs <c>schedext</c> in process with captured standard streams.</summary>
public sealed record CliRun(int ExitCode, string Out, string Error)
{
    public static async Task<CliRun> RunAsync(string[] args, string stdin = "", TimeProvider? time = null, TimeSpan? processTimeout = null, CancellationToken cancellationToken = default)
    {
        using var input = new StringReader(stdin);
        using var output = new StringWriter();
        using var error = new StringWriter();
        var host = new CliHost
        {
            In = input,
            Out = output,
            Error = error,
            Time = time ?? TimeProvider.System,
            ProcessTimeout = processTimeout ?? TimeSpan.FromSeconds(30),
        };
        var code = await SchedExtCommandLine.RunAsync(args, host, cancellationToken);
        return new CliRun(code, output.ToString(), error.ToString());
    }

    public override string ToString() => $"exit {ExitCode}; stdout: {Out}; stderr: {Error}";
}
