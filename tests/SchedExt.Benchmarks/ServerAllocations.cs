using System.Diagnostics;
using System.Globalization;

namespace SchedExt.Benchmarks;

/// <summary>
/// Server-side allocated bytes per request, which BenchmarkDotNet's Allocated column cannot show (it counts every
/// thread of the process, client included). <c>server-alloc</c> starts a child process of this program (<c>serve</c>)
/// that hosts only the servers; the parent is the client. For each endpoint: warm up, read the child's
/// <c>GC.GetTotalAllocatedBytes(true)</c> through <c>/alloc</c> twice (the difference is the cost of asking), send N
/// requests, read it again: (after − before − cost of asking) / N.
/// </summary>
internal static class ServerAllocations
{
    private const int Warmup = 30;
    private const int Requests = 200;

    /// <summary>Child side: host the servers and print their addresses; exit when the parent closes stdin.</summary>
    public static async Task ServeAsync()
    {
        await using var servers = await BenchServers.StartAsync();
        Console.WriteLine($"READY {servers.ExtenderUri} {servers.AuxUri}");
        await Console.In.ReadToEndAsync();
    }

    /// <summary>Parent side: start the child, measure every endpoint, print a markdown table.</summary>
    public static async Task RunAsync()
    {
        var (file, prefix) = Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet"
            ? (Environment.ProcessPath!, typeof(ServerAllocations).Assembly.Location + " ")
            : (Environment.ProcessPath!, string.Empty);
        var start = new ProcessStartInfo(file, prefix + "serve") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        using var child = Process.Start(start) ?? throw new InvalidOperationException("could not start the server process");
        try
        {
            string? line;
            while ((line = await child.StandardOutput.ReadLineAsync()) is not null && !line.StartsWith("READY ", StringComparison.Ordinal))
            {
            }

            var parts = line?.Split(' ') ?? throw new InvalidOperationException("server process exited before it was ready");
            var aux = new Uri(parts[2]);
            var alloc = new Uri(aux, "alloc");
            using var client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan });
            var sink = new byte[64 * 1024];
            Console.WriteLine($"Server-side allocated bytes per request (process pid {child.Id}, GC.GetTotalAllocatedBytes(true) deltas over {Requests} requests after {Warmup} warm-up requests)");
            Console.WriteLine();
            Console.WriteLine("| Verb | Candidates | Echo floor (B/req) | Extender (B/req) | Straightforward (B/req) |");
            Console.WriteLine("|---|---:|---:|---:|---:|");
            foreach (var verb in BenchServers.Verbs)
            {
                foreach (var n in ExtenderWorkload.CandidateCounts)
                {
                    var body = ExtenderWorkload.ArgsBody(n);
                    var targets = new[] { new Uri(aux, BenchServers.EchoPath(verb, n).TrimStart('/')), new Uri(new Uri(parts[1]), verb), new Uri(aux, "naive/" + verb) };
                    var cells = new List<string>();
                    foreach (var target in targets)
                    {
                        for (var i = 0; i < Warmup; i++)
                        {
                            await BenchServers.PostAsync(client, target, body, sink);
                        }

                        var first = await ReadAllocatedAsync(client, alloc);
                        var before = await ReadAllocatedAsync(client, alloc);
                        var asking = before - first;
                        for (var i = 0; i < Requests; i++)
                        {
                            await BenchServers.PostAsync(client, target, body, sink);
                        }

                        var after = await ReadAllocatedAsync(client, alloc);
                        cells.Add(((after - before - asking) / (double)Requests).ToString("N0", CultureInfo.InvariantCulture));
                    }

                    Console.WriteLine($"| {verb} | {n:N0} | {string.Join(" | ", cells)} |");
                }
            }
        }
        finally
        {
            child.StandardInput.Close();
            if (!child.WaitForExit(10_000))
            {
                child.Kill();
            }
        }
    }

    private static async Task<long> ReadAllocatedAsync(HttpClient client, Uri alloc) =>
        long.Parse(await client.GetStringAsync(alloc), CultureInfo.InvariantCulture);
}
