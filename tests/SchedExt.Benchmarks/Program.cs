using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

namespace SchedExt.Benchmarks;

/// <summary>
/// Entry point: <c>dotnet run -c Release --project tests/SchedExt.Benchmarks -- --filter '*'</c> runs BenchmarkDotNet;
/// <c>-- server-alloc</c> measures the HTTP servers' own allocations per request (see <see cref="ServerAllocations"/>);
/// <c>-- alloc-profile</c> splits the extender's per-request allocations by step (see <see cref="AllocationProfile"/>);
/// <c>-- verb-loop filter 5000 20 [evict-KB]</c> calls one verb in a loop for a while, for <c>perf record</c> (with a
/// last argument, writing that many KB between calls to push the verb's data out of the caches as a server's I/O does), and
/// <c>-- http-loop filter 5000 3000</c> posts it over HTTP, printing the client's and the server's time per request
/// (see <see cref="VerbLoop"/>).
/// </summary>
public static class Program
{
    public static async Task Main(string[] args)
    {
        switch (args)
        {
            case ["server-alloc"]:
                await ServerAllocations.RunAsync();
                return;
            case ["alloc-profile"]:
                await AllocationProfile.RunAsync();
                return;
            case ["serve"]:
                await ServerAllocations.ServeAsync();
                return;
            case ["http-loop", var verb, var candidates, var count]:
                await VerbLoop.RunHttpAsync(verb, Int(candidates), Int(count));
                return;
            case ["verb-loop", var verb, var candidates, var seconds]:
                await VerbLoop.RunAsync(verb, Int(candidates), double.Parse(seconds, CultureInfo.InvariantCulture), 0);
                return;
            case ["verb-loop", var verb, var candidates, var seconds, var evictKb]:
                await VerbLoop.RunAsync(verb, Int(candidates), double.Parse(seconds, CultureInfo.InvariantCulture), Int(evictKb));
                return;
        }

        // The machine is shared (2 cores, parallel builds): BenchmarkDotNet's default 2-minute limit for building the
        // generated project is not enough under load, and a timed-out build silently reports NA.
        var config = ManualConfig.Create(DefaultConfig.Instance).WithBuildTimeout(TimeSpan.FromMinutes(20));
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
    }

    private static int Int(string text) => int.Parse(text, CultureInfo.InvariantCulture);
}
