namespace SchedExt.Cli;

/// <summary>What a command may touch outside itself: standard streams and the clock. Tests pass their own.</summary>
internal sealed class CliHost
{
    public required TextReader In { get; init; }

    public required TextWriter Out { get; init; }

    public required TextWriter Error { get; init; }

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>The longest an external program (nvidia-smi) may run before it is killed; a wedged driver can hang it.</summary>
    public TimeSpan ProcessTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public static CliHost FromConsole() => new() { In = Console.In, Out = Console.Out, Error = Console.Error };
}
