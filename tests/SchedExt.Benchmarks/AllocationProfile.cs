using System.Buffers;
using System.Globalization;
using System.Reflection;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SchedExt.Extender;
using SchedExt.Extender.Metrics;
using SchedExt.Extender.Protocol;
using SchedExt.Extender.Scheduling;
using SchedExt.Extender.State;
using SchedExt.Extender.Verbs;

namespace SchedExt.Benchmarks;

/// <summary>
/// Where the extender's verbs allocate, piece by piece: each step of filter and prioritize is run on this thread,
/// synchronously, between two <see cref="GC.GetAllocatedBytesForCurrentThread"/> reads (after warm-up), over the same
/// bodies as the HTTP benchmarks. Run with <c>-- alloc-profile</c>.
/// </summary>
internal static class AllocationProfile
{
    private const int Warmup = 20;
    private const int Runs = 50;

    public static async Task RunAsync()
    {
        await using var servers = await BenchServers.StartAsync();
        var services = servers.ExtenderServices;
        var verbs = services.GetRequiredService<ExtenderVerbs>();
        var state = services.GetRequiredService<ClusterState>();
        var planner = services.GetRequiredService<PlacementPlanner>();
        var requests = services.GetRequiredService<RequestCache>();
        var reservations = services.GetRequiredService<Reservations>();
        var metrics = services.GetRequiredService<ExtenderMetrics>();
        var pending = services.GetRequiredService<PendingPods>();
        var options = services.GetRequiredService<IOptionsMonitor<ExtenderOptions>>();
        var gpuResource = Encoding.UTF8.GetBytes(options.CurrentValue.GpuResourceName);
        var filter = Private<Action<VerbScratch>>(verbs, "Filter");
        var prioritize = Private<Action<VerbScratch>>(verbs, "Prioritize");

        Console.WriteLine("| Step | Candidates | B per call |");
        Console.WriteLine("|---|---:|---:|");
        foreach (var n in ExtenderWorkload.CandidateCounts)
        {
            var body = ExtenderWorkload.ArgsBody(n);
            var scratch = new VerbScratch();
            void Load()
            {
                scratch.Reset();
                scratch.Append(new ReadOnlySequence<byte>(body));
            }

            Report("ExtenderArgsReader.Read (pod facts + names)", n, Load, () => ExtenderArgsReader.Read(scratch, gpuResource));
            Report("GpuResource getter (Encoding.UTF8.GetBytes per call)", n, () => { }, () => _ = Encoding.UTF8.GetBytes(options.CurrentValue.GpuResourceName));
            Report("PendingPods.Remember (snapshot/demo mode only)", n, () => { Load(); ExtenderArgsReader.Read(scratch, gpuResource); }, () => pending.Remember(scratch.Pod));
            Report("PodFacts.TryGetRequest + RequestCache.Get", n, () => { Load(); ExtenderArgsReader.Read(scratch, gpuResource); }, () =>
            {
                _ = scratch.Pod.TryGetRequest(out var request, out _, out _);
                _ = requests.Get(request!);
            });
            Report("evaluate every candidate (FindNode + Reserved + Evaluate)", n, () => { Load(); ExtenderArgsReader.Read(scratch, gpuResource); }, () =>
            {
                _ = scratch.Pod.TryGetRequest(out var request, out var group, out _);
                var compiled = requests.Get(request!);
                var snapshot = state.Current;
                for (var i = 0; i < scratch.NodeNames.Count; i++)
                {
                    var node = snapshot.FindNode(scratch.NameChars(scratch.NodeNames[i]))!;
                    _ = planner.Evaluate(compiled, node, snapshot, group, reservations.Reserved(node.Name, snapshot));
                }
            });
            Report("ExtenderVerbs.Filter (read + evaluate + write reply)", n, Load, () => filter(scratch));
            Report("ExtenderVerbs.Prioritize (read + evaluate + write reply)", n, Load, () => prioritize(scratch));
            Report("metrics: Duration(verb).Observe + Requests.WithLabels(verb, code).Inc", n, () => { }, () =>
            {
                metrics.Duration(ExtenderMetrics.VerbFilter).Observe(0.001);
                metrics.Requests.WithLabels(ExtenderMetrics.VerbFilter, "200").Inc();
            });

            // The whole verb as Kestrel calls it, over an in-memory request (the harness's own pipe reader allocates too).
            foreach (var (name, verb) in new (string, Func<HttpContext, Task>)[] { ("FilterAsync", verbs.FilterAsync), ("PrioritizeAsync", verbs.PrioritizeAsync) })
            {
                HttpContext? context = null;
                Report($"ExtenderVerbs.{name} over DefaultHttpContext (incl. harness pipes)", n, () => context = Context(body), () =>
                {
                    var task = verb(context!);
                    if (!task.IsCompletedSuccessfully)
                    {
                        throw new InvalidOperationException($"{name} did not complete synchronously; the per-thread count would miss its continuation");
                    }
                });
            }
        }
    }

    private static DefaultHttpContext Context(byte[] body)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.ContentLength = body.Length;
        context.Request.Body = new MemoryStream(body, writable: false);
        context.Response.Body = Stream.Null;
        _ = context.Request.BodyReader;
        _ = context.Response.BodyWriter;
        return context;
    }

    private static void Report(string step, int candidates, Action prepare, Action run)
    {
        for (var i = 0; i < Warmup; i++)
        {
            prepare();
            run();
        }

        long total = 0;
        for (var i = 0; i < Runs; i++)
        {
            prepare();
            var before = GC.GetAllocatedBytesForCurrentThread();
            run();
            total += GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Console.WriteLine($"| {step} | {candidates.ToString("N0", CultureInfo.InvariantCulture)} | {(total / (double)Runs).ToString("N0", CultureInfo.InvariantCulture)} |");
    }

    private static T Private<T>(object target, string method)
        where T : Delegate =>
        target.GetType().GetMethod(method, BindingFlags.Instance | BindingFlags.NonPublic)!.CreateDelegate<T>(target);
}
