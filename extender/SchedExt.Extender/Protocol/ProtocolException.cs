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
}
