namespace SchedExt.Extender;

/// <summary>Entry point of the scheduler extender service.</summary>
public static class Program
{
    public static async Task Main(string[] args)
    {
        var app = ExtenderApp.Build(args);
        await app.RunAsync().ConfigureAwait(false);
    }
}
