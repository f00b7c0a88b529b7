namespace SchedExt.Extender;

/// <summary>Builds the extender web application: options, cluster state, verbs, health and metrics.</summary>
internal static class ExtenderApp
{
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        var app = builder.Build();
        app.MapGet("/healthz", () => "ok");
        return app;
    }
}
