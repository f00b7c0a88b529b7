using BenchmarkDotNet.Attributes;
using SchedExt.Topology.Requests;
using SchedExt.Topology.Scoring;
using SchedExt.Topology.Search;
using SchedExt.Topology.Shapes;

namespace SchedExt.Benchmarks;

/// <summary>
/// Issue 2, the topology core: one 4-GPU NVLink request evaluated on one node, and on every node of a 500- and a
/// 5,000-node fleet (<see cref="BenchCluster"/>) per operation. Targets: 0 B allocated per operation after warm-up,
/// and the 5,000-node fleet in under 1 ms on one core.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class PlacementBenchmarks
{
    private PlacementEngine _engine = null!;
    private CompiledRequest _request = null!;
    private NodeShape _oneShape = null!;
    private ulong _oneFree;
    private NodeContext _oneContext;
    private Fleet _fleet500 = null!;
    private Fleet _fleet5000 = null!;

    [GlobalSetup]
    public void Setup()
    {
        _engine = new PlacementEngine(ScoreWeights.Default);
        _request = _engine.Compile(new GpuRequest(4, Interconnect.NvLink));
        var catalog = new ShapeCatalog();
        _fleet500 = new Fleet(catalog, 500);
        _fleet5000 = new Fleet(catalog, 5_000);

        // A DGX-1V with GPUs 0 and 5 busy: the search has to find a 4-GPU NVLink set among 6 free GPUs.
        _oneShape = catalog.GetOrAdd(ReferenceTopologies.Dgx1V100);
        _oneFree = _oneShape.AllGpus & ~0b0010_0001UL;
        _oneContext = new NodeContext(MachineKind.BareMetal);

        // Warm-up proper: first sight of each (shape, request class, free mask) builds the slots and memo entries;
        // what is measured afterwards is the steady state the extender runs in.
        _ = OneNode();
        _ = Fleet500();
        _ = Fleet5000();
        Fleet.Describe(_fleet5000, _engine, _request);
    }

    [Benchmark]
    public int OneNode() => _engine.Evaluate(_request, _oneShape, _oneFree, in _oneContext).Score;

    [Benchmark]
    public int Fleet500() => _fleet500.EvaluateAll(_engine, _request);

    [Benchmark]
    public int Fleet5000() => _fleet5000.EvaluateAll(_engine, _request);

    /// <summary>The fleet as parallel arrays, the layout a snapshot walk would see.</summary>
    private sealed class Fleet
    {
        private readonly NodeShape[] _shapes;
        private readonly ulong[] _free;
        private readonly NodeContext[] _contexts;

        public Fleet(ShapeCatalog catalog, int count)
        {
            var nodes = BenchCluster.Generate(count);
            _shapes = new NodeShape[count];
            _free = new ulong[count];
            _contexts = new NodeContext[count];
            for (var i = 0; i < count; i++)
            {
                _shapes[i] = catalog.GetOrAdd(nodes[i].Topology);
                _free[i] = _shapes[i].AllGpus & ~nodes[i].UsedGpus;
                _contexts[i] = new NodeContext(nodes[i].Machine);
            }
        }

        /// <summary>Evaluates every node; returns feasible count plus score sum so nothing is optimised away.</summary>
        public int EvaluateAll(PlacementEngine engine, CompiledRequest request)
        {
            var sum = 0;
            var shapes = _shapes;
            var free = _free;
            var contexts = _contexts;
            for (var i = 0; i < shapes.Length; i++)
            {
                var verdict = engine.Evaluate(request, shapes[i], free[i], in contexts[i]);
                if (verdict.Feasible)
                {
                    sum += 1 + verdict.Score;
                }
            }

            return sum;
        }

        /// <summary>Prints what the fleet looks like, so the report can say how many nodes fit.</summary>
        public static void Describe(Fleet fleet, PlacementEngine engine, CompiledRequest request)
        {
            var feasible = 0;
            for (var i = 0; i < fleet._shapes.Length; i++)
            {
                feasible += engine.Evaluate(request, fleet._shapes[i], fleet._free[i], in fleet._contexts[i]).Feasible ? 1 : 0;
            }

            var byShape = fleet._shapes.GroupBy(s => s.GpuCount + "-gpu #" + s.Id).Select(g => $"{g.Key}: {g.Count()}");
            Console.WriteLine($"// fleet of {fleet._shapes.Length}: {feasible} nodes fit 4x NVLink; shapes {string.Join(", ", byShape)}");
        }
    }
}
