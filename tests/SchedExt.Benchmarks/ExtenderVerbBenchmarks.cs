using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SchedExt.Extender;
using SchedExt.Extender.Protocol;
using SchedExt.Extender.Scheduling;
using SchedExt.Extender.State;
using SchedExt.Extender.Verbs;

namespace SchedExt.Benchmarks;

/// <summary>
/// Where the extender's filter and prioritize spend their time, without HTTP: the same bodies and 5,000-node snapshot as
/// <see cref="ExtenderHttpBenchmarks"/>, each step on its own (parse, name lookup, lookup + evaluate) and each verb
/// whole (parse + evaluate + reply into the pooled buffer). The HTTP benchmark's distance to the echo floor is the
/// verb's time here.
/// </summary>
[MemoryDiagnoser]
[ShippedRuntimeJob(warmupCount: 5, iterationCount: 15)]
public class ExtenderVerbBenchmarks
{
    private BenchServers _servers = null!;
    private VerbScratch _scratch = null!;
    private byte[] _body = [];
    private byte[] _gpuResource = [];
    private Action<VerbScratch> _filter = null!;
    private Action<VerbScratch> _prioritize = null!;
    private ClusterState _state = null!;
    private PlacementPlanner _planner = null!;
    private RequestCache _requests = null!;

    [Params(500, 5_000)]
    public int Candidates { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _servers = await BenchServers.StartAsync();
        var services = _servers.ExtenderServices;
        var verbs = services.GetRequiredService<ExtenderVerbs>();
        _filter = verbs.Filter;
        _prioritize = verbs.Prioritize;
        _state = services.GetRequiredService<ClusterState>();
        _planner = services.GetRequiredService<PlacementPlanner>();
        _requests = services.GetRequiredService<RequestCache>();
        _gpuResource = Encoding.UTF8.GetBytes(services.GetRequiredService<IOptionsMonitor<ExtenderOptions>>().CurrentValue.GpuResourceName);
        _body = ExtenderWorkload.ArgsBody(Candidates);
        _scratch = new VerbScratch();
        Load();
        ExtenderArgsReader.Read(_scratch, _gpuResource);
    }

    [GlobalCleanup]
    public async Task CleanupAsync() => await _servers.DisposeAsync();

    /// <summary>Copying the body into scratch and parsing it (pod facts and candidate names).</summary>
    [Benchmark]
    public int Parse()
    {
        Load();
        ExtenderArgsReader.Read(_scratch, _gpuResource);
        return _scratch.NodeNames.Count;
    }

    /// <summary>Every candidate name looked up in the snapshot (the body was parsed in setup).</summary>
    [Benchmark]
    public int Lookup()
    {
        var snapshot = _state.Current;
        var found = 0;
        foreach (var name in _scratch.NodeNames)
        {
            found += snapshot.FindNode(_scratch.NameUtf8(name)) is null ? 0 : 1;
        }

        return found;
    }

    /// <summary>Lookup plus the placement verdict for every candidate.</summary>
    [Benchmark]
    public int LookupAndEvaluate()
    {
        var snapshot = _state.Current;
        _ = _scratch.Pod.TryGetRequest(out var request, out var group, out _);
        var compiled = _requests.Get(request!);
        var placement = snapshot.Group(group);
        var feasible = 0;
        foreach (var name in _scratch.NodeNames)
        {
            feasible += _planner.Evaluate(compiled, snapshot.FindNode(_scratch.NameUtf8(name))!, placement).Feasible ? 1 : 0;
        }

        return feasible;
    }

    /// <summary>The whole filter verb: parse, evaluate, reply written into the scratch buffer.</summary>
    [Benchmark]
    public int Filter() => Run(_filter);

    /// <summary>The whole prioritize verb.</summary>
    [Benchmark]
    public int Prioritize() => Run(_prioritize);

    private int Run(Action<VerbScratch> verb)
    {
        Load();
        verb(_scratch);
        _scratch.Writer.Flush();
        return _scratch.Output.WrittenCount;
    }

    private void Load()
    {
        _ = _scratch.Reset();
        _scratch.Append(new ReadOnlySequence<byte>(_body));
    }

}
