namespace SchedExt.Cli;

/// <summary>A failure the user can act on: its message is printed as is and <see cref="ExitCode"/> becomes the process exit code.</summary>
internal sealed class CliException : Exception
{
    public CliException(int exitCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        ExitCode = exitCode;
    }

    public CliException()
    {
        ExitCode = ExitCodes.Internal;
    }

    public CliException(string message)
        : this(ExitCodes.Internal, message)
    {
    }

    public CliException(string message, Exception innerException)
        : this(ExitCodes.Internal, message, innerException)
    {
    }

    public int ExitCode { get; }
}
