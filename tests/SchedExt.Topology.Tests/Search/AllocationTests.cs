using SchedExt.Testing;
using SchedExt.Topology.Requests;
using SchedExt.Topology.Scoring;
using SchedExt.Topology.Search;
using SchedExt.Topology.Shapes;

namespace SchedExt.Topology.Tests.Search;

public sealed class AllocationTests
{
    [Fact]
    public void Evaluate_10000MixedShapeEvaluationsAfterWarmUp_AllocateNothing()
    {
        var engine = new PlacementEngine(ScoreWeights.Default);
        var catalog = new ShapeCatalog();
        NodeShape[] shapes =
        [
            catalog.GetOrAdd(Topologies.Dgx1V100()),
            catalog.GetOrAdd(Topologies.NvSwitch8()),
            catalog.GetOrAdd(Topologies.Pcie8TwoSocket()),
            catalog.GetOrAdd(Topologies.V100Pairs4()),
            catalog.GetOrAdd(Topologies.Islands(32)),
        ];
        CompiledRequest[] requests =
        [
            engine.Compile(new GpuRequest(4, Interconnect.NvLink)),
            engine.Compile(new GpuRequest(2, Interconnect.PcieSwitch, NicNeed.Preferred, MachinePolicy.PreferBareMetal)),
            engine.Compile(new GpuRequest(1, ProductGlob: "*V100*")),
        ];
        var random = new Random(7);
        var free = Enumerable.Range(0, 10_000).Select(_ => (ulong)random.NextInt64()).ToArray();
        var context = new NodeContext(MachineKind.BareMetal, 3, 1, 2);

        // Warm-up: first sight of every (request, shape) creates its slot and memo table.
        foreach (var r in requests)
        {
            foreach (var s in shapes)
            {
                engine.Evaluate(r, s, s.AllGpus, context);
            }
        }

        long checksum = 0;
        Span<char> reason = stackalloc char[256];
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < free.Length; i++)
        {
            var shape = shapes[i % shapes.Length];
            var verdict = engine.Evaluate(requests[i % requests.Length], shape, free[i] & shape.AllGpus, context);
            checksum += verdict.Feasible ? verdict.Score : (int)verdict.Reason;
            _ = verdict.TryFormatReason(reason, out _);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.NotEqual(0, checksum);
    }
}
