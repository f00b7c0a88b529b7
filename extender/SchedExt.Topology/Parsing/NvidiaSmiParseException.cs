namespace SchedExt.Topology.Parsing;

/// <summary>Output of an <c>nvidia-smi</c> command that cannot be read; <see cref="Line"/> (1-based) says where, <see cref="Reason"/> why.</summary>
public sealed class NvidiaSmiParseException : FormatException
{
    public NvidiaSmiParseException(int line, string reason)
        : base($"line {line}: {reason}")
    {
        Line = line;
        Reason = reason;
    }

    public NvidiaSmiParseException(int line, string reason, Exception innerException)
        : base($"line {line}: {reason}", innerException)
    {
        Line = line;
        Reason = reason;
    }

    public NvidiaSmiParseException()
    {
        Reason = string.Empty;
    }

    public NvidiaSmiParseException(string message)
        : base(message)
    {
        Reason = message;
    }

    public NvidiaSmiParseException(string message, Exception innerException)
        : base(message, innerException)
    {
        Reason = message;
    }

    /// <summary>The 1-based line of the input where the problem was found; 0 when no line applies.</summary>
    public int Line { get; }

    /// <summary>What is wrong, without the line number.</summary>
    public string Reason { get; }
}
