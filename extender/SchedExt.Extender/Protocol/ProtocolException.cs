namespace SchedExt.Extender.Protocol;

/// <summary>A request body that is not what kube-scheduler sends: answered with HTTP 400 and this message, changing nothing.</summary>
internal sealed class ProtocolException : Exception
{
    public ProtocolException(string message)
        : base(message)
    {
    }

    public ProtocolException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public ProtocolException()
    {
    }

    /// <summary>
    /// For the <see cref="InvalidOperationException"/> that <see cref="System.Text.Json.Utf8JsonReader"/> throws when
    /// it decodes a string it accepted but cannot represent (a lone UTF-16 surrogate escape such as <c>\ud800</c>).
    /// The readers check every token's type before reading it, so this is the only such exception they can meet.
    /// </summary>
    public static ProtocolException UndecodableString(InvalidOperationException e) =>
        new($"invalid JSON string: {e.Message}", e);
}
