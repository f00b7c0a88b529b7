using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace SchedExt.Benchmarks;

/// <summary>
/// Issue 3, the extender over HTTP: filter and prioritize end to end on loopback with 500 and 5,000 candidate names
/// (<c>NodeNames</c> mode) against a 5,000-node snapshot, side by side with (a) the echo floor and (b) the
/// straightforward KubernetesClient-models implementation (<see cref="NaiveExtender"/>). Targets: the extender within
/// 1.5× of the echo floor and at least 10× faster than (b). Client and servers share this process, so the Allocated
/// column counts both sides; <see cref="ServerAllocations"/> measures the server side alone. Three launches: the
/// rows of a group run one after another in separate processes, and on a shared machine the load moves between them;
/// three launches each, spread over the run, make the ratio less a matter of which row ran at a quiet moment.
/// </summary>
[MemoryDiagnoser]
[ShippedRuntimeJob(launchCount: 3)]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
public class ExtenderHttpBenchmarks
{
    private readonly byte[] _sink = new byte[64 * 1024];
    private BenchServers _servers = null!;
    private byte[] _body = [];
    private Uri[] _filter = [];
    private Uri[] _prioritize = [];

    [Params(500, 5_000)]
    public int Candidates { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _servers = await BenchServers.StartAsync();
        _body = ExtenderWorkload.ArgsBody(Candidates);
        _filter = _servers.Targets("filter", Candidates);
        _prioritize = _servers.Targets("prioritize", Candidates);

        // Same reply size from the extender and the echo floor, or the comparison is not fair.
        foreach (var (verb, targets) in new[] { ("filter", _filter), ("prioritize", _prioritize) })
        {
            var echo = await PostAsync(targets[0]);
            var real = await PostAsync(targets[1]);
            var naive = await PostAsync(targets[2]);
            Console.WriteLine($"// {verb} {Candidates}: request {_body.Length} B; reply extender {real} B, echo {echo} B, naive {naive} B");
            if (real != echo)
            {
                throw new InvalidOperationException($"echo reply {echo} B differs from the extender's {real} B");
            }
        }
    }

    [GlobalCleanup]
    public async Task CleanupAsync() => await _servers.DisposeAsync();

    [Benchmark(Baseline = true), BenchmarkCategory("filter")]
    public Task<long> FilterEcho() => PostAsync(_filter[0]);

    [Benchmark, BenchmarkCategory("filter")]
    public Task<long> FilterExtender() => PostAsync(_filter[1]);

    [Benchmark, BenchmarkCategory("filter")]
    public Task<long> FilterNaive() => PostAsync(_filter[2]);

    [Benchmark(Baseline = true), BenchmarkCategory("prioritize")]
    public Task<long> PrioritizeEcho() => PostAsync(_prioritize[0]);

    [Benchmark, BenchmarkCategory("prioritize")]
    public Task<long> PrioritizeExtender() => PostAsync(_prioritize[1]);

    [Benchmark, BenchmarkCategory("prioritize")]
    public Task<long> PrioritizeNaive() => PostAsync(_prioritize[2]);

    /// <summary>One request over the kept-alive connection; the reply is read to the end into a reused buffer.</summary>
    private Task<long> PostAsync(Uri uri) => BenchServers.PostAsync(_servers.Client, uri, _body, _sink);
}
