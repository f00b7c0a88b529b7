using System.Buffers;
using System.Diagnostics;
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
    public static async Task RunAsync(string verb, int candidates, double seconds, int evictKb)
    {
        // Between calls a server reads and writes hundreds of KB of request, reply and socket buffers, which pushes the
        // verb's data (name index, node facts, scratch) out of the core's caches; writing as much here does the same,
        // outside the timed part.
        var evict = new byte[evictKb * 1024];
        await using var servers = await BenchServers.StartAsync();
        var verbs = servers.ExtenderServices.GetRequiredService<ExtenderVerbs>();
        Action<VerbScratch> call = verb switch
        {
            "filter" => verbs.Filter,
            "prioritize" => verbs.Prioritize,
            _ => throw new ArgumentException($"verb must be filter or prioritize, not '{verb}'", nameof(verb)),
        };
        var body = ExtenderWorkload.ArgsBody(candidates);
        var scratch = new VerbScratch();
        var until = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        long calls = 0;
        long timed = 0;
        byte fill = 0;
        while (Stopwatch.GetTimestamp() < until)
        {
            if (evict.Length > 0)
            {
                evict.AsSpan().Fill(++fill);
            }

            var started = Stopwatch.GetTimestamp();
            _ = scratch.Reset();
            scratch.Append(new ReadOnlySequence<byte>(body));
            call(scratch);
            scratch.Writer.Flush();
            timed += Stopwatch.GetTimestamp() - started;
            calls++;
        }

        var evicting = evict.Length > 0 ? $", {evictKb} KB written between calls" : string.Empty;
        Console.WriteLine($"{verb} {candidates}: {calls} calls, {timed * 1e6 / Stopwatch.Frequency / calls:F1} µs per call{evicting}");
    }

    /// <summary>
    /// Posts the verb's body over HTTP (the benchmark's client) <paramref name="count"/> times, then prints the client's
    /// mean round trip next to the server's own mean time per request (its request-duration histogram).
    /// </summary>
    public static async Task RunHttpAsync(string verb, int candidates, int count)
    {
        await using var servers = await BenchServers.StartAsync();
        var body = ExtenderWorkload.ArgsBody(candidates);
        var sink = new byte[64 * 1024];
        var targets = servers.Targets(verb, candidates);
        foreach (var (label, target) in new[] { ("echo", targets[0]), ("extender", targets[1]) })
        {
            for (var i = 0; i < 200; i++)
            {
                await BenchServers.PostAsync(servers.Client, target, body, sink);
            }

            var (sumBefore, countBefore) = await ServerDurationAsync(servers, verb);
            var started = Stopwatch.GetTimestamp();
            for (var i = 0; i < count; i++)
            {
                await BenchServers.PostAsync(servers.Client, target, body, sink);
            }

            var elapsed = Stopwatch.GetElapsedTime(started);
            var (sumAfter, countAfter) = await ServerDurationAsync(servers, verb);
            var server = countAfter > countBefore ? $"; server handler {(sumAfter - sumBefore) * 1e6 / (countAfter - countBefore):F1} µs" : string.Empty;
            Console.WriteLine($"{label} {verb} {candidates}: round trip {elapsed.TotalMicroseconds / count:F1} µs{server}");
        }
    }

    private static async Task<(double Sum, double Count)> ServerDurationAsync(BenchServers servers, string verb)
    {
        // Outside the timed loop, on the benchmark's own client.
        var text = await servers.Client.GetStringAsync(new Uri(servers.ExtenderUri, "metrics"));
        double Value(string name) => text.Split('\n')
            .Where(l => l.StartsWith(name + "{verb=\"" + verb + "\"}", StringComparison.Ordinal))
            .Select(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture))
            .FirstOrDefault();
        return (Value("schedext_extender_request_duration_seconds_sum"), Value("schedext_extender_request_duration_seconds_count"));
    }
}
