namespace SchedExt.Cli;

/// <summary>The exit codes of <c>schedext</c>, stable for scripts (documented in docs/deploy.md, "Node agent").</summary>
internal static class ExitCodes
{
    /// <summary>Done: the annotation was printed, and with <c>--apply</c> the node holds it (updated or already equal).</summary>
    public const int Ok = 0;

    /// <summary>A bug or an unexpected failure; the message says what happened.</summary>
    public const int Internal = 1;

    /// <summary>The command line is wrong (unknown option, missing value, options that need each other).</summary>
    public const int Usage = 2;

    /// <summary>The input could not be had: file missing or unreadable, nvidia-smi missing, failing or hanging.</summary>
    public const int InputUnavailable = 3;

    /// <summary>The input was read but is not nvidia-smi output SchedExt understands (the message names the line).</summary>
    public const int InputInvalid = 4;

    /// <summary>The cluster could not be used: no credentials, API server unreachable, access denied, server error.</summary>
    public const int ClusterError = 5;

    /// <summary>The node named by <c>--node</c> does not exist.</summary>
    public const int NodeNotFound = 6;
}
