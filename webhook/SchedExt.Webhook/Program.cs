using System.Diagnostics.CodeAnalysis;
using SchedExt.Webhook.Hosting;

namespace SchedExt.Webhook;

/// <summary>Entry point of the SchedExt mutating admission webhook.</summary>
[SuppressMessage("Maintainability", "CA1515", Justification = "WebApplicationFactory<Program> in the tests needs a public entry point.")]
public sealed class Program
{
    private Program()
    {
    }

    public static void Main(string[] args) => WebhookApp.Build(args).Run();
}
