namespace SchedExt.Extender;

/// <summary>Entry point of the scheduler extender service.</summary>
public sealed class Program
{
    private Program()
    {
    }

    public static async Task Main(string[] args)
    {
        var app = ExtenderApp.Build(args);
        await app.RunAsync().ConfigureAwait(false);
    }
}
