namespace SchedExt.Topology.Model;

/// <summary>A topology description that is malformed; <see cref="Field"/> names the offending field (e.g. <c>gpuLinks[2][3]</c>).</summary>
public sealed class TopologyFormatException : FormatException
{
    public TopologyFormatException(string field, string reason)
        : base($"{field}: {reason}")
    {
        Field = field;
        Reason = reason;
    }

    /// <summary>A malformed field whose cause is another exception (e.g. a <see cref="System.Text.Json.JsonException"/>).</summary>
    public TopologyFormatException(string field, string reason, Exception innerException)
        : base($"{field}: {reason}", innerException)
    {
        Field = field;
        Reason = reason;
    }

    public TopologyFormatException()
    {
        Field = string.Empty;
        Reason = string.Empty;
    }

    public TopologyFormatException(string message)
        : base(message)
    {
        Field = string.Empty;
        Reason = message;
    }

    public TopologyFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
        Field = string.Empty;
        Reason = message;
    }

    /// <summary>The path of the malformed field.</summary>
    public string Field { get; }

    /// <summary>Why it is malformed.</summary>
    public string Reason { get; }
}
