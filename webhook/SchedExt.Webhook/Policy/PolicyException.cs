namespace SchedExt.Webhook.Policy;

/// <summary>A policy file that cannot be used; the message names the key and the reason.</summary>
public sealed class PolicyException : Exception
{
    public PolicyException()
    {
    }

    public PolicyException(string message)
        : base(message)
    {
    }

    public PolicyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
