using System.Buffers;
using System.Globalization;
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
    // Enough calls for tiered compilation to reach optimised code (call counting, OSR, background tier-1) before timing.
    private const int Warmup = 300;
    private const int Runs = 100;

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
        Action<VerbScratch> filter = verbs.Filter;
        Action<VerbScratch> prioritize = verbs.Prioritize;

        // Over real Kestrel: what types the extender's filter and prioritize allocate per request, all threads.
        var sink = new byte[64 * 1024];
        foreach (var verb in BenchServers.Verbs)
        {
            foreach (var n in ExtenderWorkload.CandidateCounts)
            {
                var body = ExtenderWorkload.ArgsBody(n);
                var target = new Uri(servers.ExtenderUri, verb);
                for (var i = 0; i < 10; i++)
                {
                    await BenchServers.PostAsync(servers.Client, target, body, sink);
                }

                using var sampler = new AllocationSampler();
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                var before = GC.GetTotalAllocatedBytes(precise: true);
                sampler.Recording = true;
                const int posts = 40;
                for (var i = 0; i < posts; i++)
                {
                    await BenchServers.PostAsync(servers.Client, target, body, sink);
                }

                sampler.Recording = false;
                var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
                var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
                Console.WriteLine($"// kestrel {verb} {n}: {elapsed.TotalMilliseconds / posts:F2} ms/request, {allocated / posts:N0} B/request (client+server); AllocationTick samples: " +
                    string.Join(", ", sampler.ByType.OrderByDescending(t => t.Value.Ticks).Take(8).Select(t => $"{t.Key} x{t.Value.Ticks} (largest {t.Value.MaxObject:N0} B)")));
            }
        }

        Console.WriteLine($"| Step | Candidates | mean B per call ({Runs} calls) | min | max | mean µs per call |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
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
                    var node = snapshot.FindNode(scratch.NameUtf8(scratch.NodeNames[i]))!;
                    _ = planner.Evaluate(compiled, node, snapshot, group, reservations.Reserved(node.Name, snapshot));
                }
            });
            Report("ExtenderVerbs.Filter (read + evaluate + write reply)", n, Load, () => filter(scratch));
            Report("NameUtf8 + FindNode for every candidate", n, () => { Load(); ExtenderArgsReader.Read(scratch, gpuResource); }, () =>
            {
                var snapshot = state.Current;
                for (var i = 0; i < scratch.NodeNames.Count; i++)
                {
                    _ = snapshot.FindNode(scratch.NameUtf8(scratch.NodeNames[i]));
                }
            });
            var failing = new List<SchedExt.Topology.Search.NodeVerdict>();
            {
                Load();
                ExtenderArgsReader.Read(scratch, gpuResource);
                _ = scratch.Pod.TryGetRequest(out var request, out var group, out _);
                var compiled = requests.Get(request!);
                var snapshot = state.Current;
                for (var i = 0; i < scratch.NodeNames.Count; i++)
                {
                    var v = planner.Evaluate(compiled, snapshot.FindNode(scratch.NameUtf8(scratch.NodeNames[i]))!, snapshot, group);
                    if (!v.Feasible)
                    {
                        failing.Add(v);
                    }
                }
            }

            var reasonBuffer = new char[512];
            Report($"NodeVerdict.TryFormatReason for every failing candidate ({failing.Count})", n, () => { }, () =>
            {
                foreach (var v in failing)
                {
                    _ = v.TryFormatReason(reasonBuffer, out _);
                }
            });
            using (var sampler = new AllocationSampler())
            {
                sampler.Recording = true;
                for (var i = 0; i < 100; i++)
                {
                    Load();
                    filter(scratch);
                }

                sampler.Recording = false;
                Console.WriteLine($"// own-scratch filter x100 at {n}: AllocationTick samples by type: " +
                    string.Join(", ", sampler.ByType.OrderByDescending(t => t.Value.Ticks).Select(t => $"{t.Key} x{t.Value.Ticks} (largest {t.Value.MaxObject:N0} B)")));
            }

            Report($"metrics.Filtered(reason) once per candidate ({n} Counter.Child.Inc calls)", n, () => { }, () =>
            {
                for (var i = 0; i < n; i++)
                {
                    metrics.Filtered(SchedExt.Topology.Search.Infeasibility.LinkTooWeak);
                }
            });
            Report("ExtenderVerbs.Prioritize (read + evaluate + write reply)", n, Load, () => prioritize(scratch));
            Report("metrics: Duration(verb).Observe + Requests.WithLabels(verb, code).Inc", n, () => { }, () =>
            {
                metrics.Duration(ExtenderMetrics.VerbFilter).Observe(0.001);
                metrics.Requests.WithLabels(ExtenderMetrics.VerbFilter, "200").Inc();
            });

            // The steps of RunAsync around the verb, over an in-memory request.
            HttpContext? piece = null;
            var limit = options.CurrentValue.MaxRequestBodyBytes;
            Report("RequestBody.ReadAsync (harness pipe reader)", n, () => { scratch.Reset(); piece = Context(body); }, () => Sync(RequestBody.ReadAsync(piece!.Request.BodyReader, scratch, limit, default).AsTask()));
            foreach (var (name, verb) in new (string, Action<VerbScratch>)[] { ("filter", filter), ("prioritize", prioritize) })
            {
                Load();
                verb(scratch);
                scratch.Writer.Flush();
                var reply = scratch.Output.WrittenMemory.ToArray();
                Report($"BodyWriter.WriteAsync of the {name} reply ({reply.Length:N0} B) from the scratch buffer", n, () =>
                {
                    Load();
                    verb(scratch);
                    scratch.Writer.Flush();
                    piece = Context(body);
                }, () => Sync(piece!.Response.BodyWriter.WriteAsync(scratch.Output.WrittenMemory).AsTask()));
                Report($"BodyWriter.WriteAsync of the {name} reply ({reply.Length:N0} B) from a byte[] (what echo does)", n, () => piece = Context(body), () => Sync(piece!.Response.BodyWriter.WriteAsync(reply).AsTask()));
                var pooled = services.GetRequiredService<Microsoft.Extensions.ObjectPool.ObjectPool<VerbScratch>>();
                var seen = new HashSet<VerbScratch>(ReferenceEqualityComparer.Instance);
                Report($"pooled scratch: Get, {name}, Return", n, () => { }, () =>
                {
                    var s2 = pooled.Get();
                    seen.Add(s2);
                    s2.Append(new ReadOnlySequence<byte>(body));
                    verb(s2);
                    s2.Writer.Flush();
                    pooled.Return(s2);
                });
                Console.WriteLine($"// pooled {name} at {n}: {seen.Count} distinct scratch instance(s) handed out over {Warmup + Runs} calls");
            }

            // Name the types behind the pooled filter's allocations (AllocationTick sampling, ~1 event per 100 KB).
            using (var sampler = new AllocationSampler())
            {
                var pooled = services.GetRequiredService<Microsoft.Extensions.ObjectPool.ObjectPool<VerbScratch>>();
                var before = GC.GetAllocatedBytesForCurrentThread();
                sampler.Recording = true;
                for (var i = 0; i < 200; i++)
                {
                    var s2 = pooled.Get();
                    s2.Append(new ReadOnlySequence<byte>(body));
                    filter(s2);
                    s2.Writer.Flush();
                    pooled.Return(s2);
                }

                sampler.Recording = false;
                var total = GC.GetAllocatedBytesForCurrentThread() - before;
                Console.WriteLine($"// pooled filter x200 at {n}: {total / 200:N0} B per call; AllocationTick samples by type: " +
                    string.Join(", ", sampler.ByType.OrderByDescending(t => t.Value.Ticks).Select(t => $"{t.Key} x{t.Value.Ticks} (largest {t.Value.MaxObject:N0} B)")));
            }

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

    private static void Sync(Task task)
    {
        if (!task.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("step did not complete synchronously; the per-thread count would miss its continuation");
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

        Thread.Sleep(200); // lets the background JIT install tier-1 code for what warm-up made hot

        long total = 0, max = 0, min = long.MaxValue, ticks = 0;
        for (var i = 0; i < Runs; i++)
        {
            prepare();
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var before = GC.GetAllocatedBytesForCurrentThread();
            run();
            var used = GC.GetAllocatedBytesForCurrentThread() - before;
            ticks += System.Diagnostics.Stopwatch.GetTimestamp() - started;
            total += used;
            max = Math.Max(max, used);
            min = Math.Min(min, used);
        }

        var c = CultureInfo.InvariantCulture;
        Console.WriteLine($"| {step} | {candidates.ToString("N0", c)} | {(total / (double)Runs).ToString("N0", c)} | {min.ToString("N0", c)} | {max.ToString("N0", c)} | {(ticks * 1_000_000.0 / System.Diagnostics.Stopwatch.Frequency / Runs).ToString("N1", c)} |");
    }
}
