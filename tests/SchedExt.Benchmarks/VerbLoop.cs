using System.Buffers;
using System.Diagnostics;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using SchedExt.Extender.Protocol;
using SchedExt.Extender.Verbs;

namespace SchedExt.Benchmarks;

/// <summary>
/// Calls filter or prioritize (no HTTP) over the benchmark body in a loop on one thread, for a sampling profiler:
/// <c>DOTNET_PerfMapEnabled=1 perf record -g dotnet SchedExt.Benchmarks.dll verb-loop filter 5000 20</c>, then
/// <c>perf report</c>. Prints the mean time per call at the end.
/// </summary>
internal static class VerbLoop
{
    public static async Task RunAsync(string verb, int candidates, double seconds)
    {
        await using var servers = await BenchServers.StartAsync();
        var verbs = servers.ExtenderServices.GetRequiredService<ExtenderVerbs>();
        var method = verb switch
        {
            "filter" => "Filter",
            "prioritize" => "Prioritize",
            _ => throw new ArgumentException($"verb must be filter or prioritize, not '{verb}'", nameof(verb)),
        };
        var call = verbs.GetType().GetMethod(method, BindingFlags.Instance | BindingFlags.NonPublic)!.CreateDelegate<Action<VerbScratch>>(verbs);
        var body = ExtenderWorkload.ArgsBody(candidates);
        var scratch = new VerbScratch();
        var until = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        long calls = 0;
        var started = Stopwatch.GetTimestamp();
        while (Stopwatch.GetTimestamp() < until)
        {
            _ = scratch.Reset();
            scratch.Append(new ReadOnlySequence<byte>(body));
            call(scratch);
            scratch.Writer.Flush();
            calls++;
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        Console.WriteLine($"{verb} {candidates}: {calls} calls, {elapsed.TotalMicroseconds / calls:F1} µs per call");
    }
}
