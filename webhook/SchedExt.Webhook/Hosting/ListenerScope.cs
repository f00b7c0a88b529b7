namespace SchedExt.Webhook.Hosting;

/// <summary>Endpoint metadata: the listener an endpoint is served on (admission on the HTTPS port, metrics on the plain HTTP port).</summary>
internal sealed class ListenerScope(bool metricsPort)
{
    public static ListenerScope Webhook { get; } = new(metricsPort: false);

    public static ListenerScope Metrics { get; } = new(metricsPort: true);

    public int PortOf(WebhookOptions options) => metricsPort ? options.MetricsPort : options.HttpsPort;
}
