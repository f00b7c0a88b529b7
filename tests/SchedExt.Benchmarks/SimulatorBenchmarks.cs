using BenchmarkDotNet.Attributes;
using SchedExt.Simulator;
using SchedExt.Simulator.Engine;
using SchedExt.Simulator.Inputs;

namespace SchedExt.Benchmarks;

/// <summary>
/// One policy replaying 10,000 synthetic jobs on 100 nodes (a tenth of the docs/benchmarks.md run in each dimension):
/// the cost per job of filter + prioritize + bind through the extender's planner versus the blind baselines.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 1, iterationCount: 5)]
public class SimulatorBenchmarks
{
    private ClusterInput _cluster = null!;
    private IReadOnlyList<SimJob> _jobs = [];

    [Params("schedext", "first-fit", "random")]
    public string Policy { get; set; } = "schedext";

    [GlobalSetup]
    public void Setup()
    {
        _cluster = ClusterInput.FromSpec("40x hgx-h200,30x dgx1-v100,20x pcie8-two-socket:vm,10x dgx2-v100");
        _jobs = SyntheticTrace.Generate(10_000, seed: 42, totalGpus: _cluster.TotalGpus);
    }

    [Benchmark]
    public int Replay() => new Simulation(SimulationRunner.CreatePolicy(Policy, 42), _cluster, _jobs, new ShapeFactsCache()).Run().Placed;
}
