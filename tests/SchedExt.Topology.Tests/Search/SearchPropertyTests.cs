using System.Numerics;
using CsCheck;
using SchedExt.Topology.Requests;
using SchedExt.Topology.Scoring;
using SchedExt.Topology.Search;
using SchedExt.Topology.Shapes;

namespace SchedExt.Topology.Tests.Search;

public sealed class SearchPropertyTests
{
    private static readonly NodeContext Metal = new(MachineKind.BareMetal);

    private static readonly Gen<(Topology.Model.NodeTopology Topology, ulong Free, GpuRequest Request)> Cases =
        from t in RandomTopologies.Topology(1, 10)
        from free in Gen.ULong
        from r in RandomTopologies.Request(6)
        select (t, free & ((1UL << t.GpuCount) - 1), r);

    [Fact]
    public void Evaluate_RandomTopologiesUpTo10Gpus_EqualsBruteForce()
    {
        var engine = new PlacementEngine(ScoreWeights.Default);
        var catalog = new ShapeCatalog();
        Cases.Sample(c =>
        {
            var shape = catalog.GetOrAdd(c.Topology);
            var verdict = engine.Evaluate(engine.Compile(c.Request), shape, c.Free, Metal);
            var (feasible, gpus, score) = BruteForce.Best(shape, engine.Weights, c.Request, c.Free);
            Assert.Equal(feasible, verdict.Feasible);
            if (feasible)
            {
                Assert.Equal(gpus, verdict.Gpus);
                Assert.Equal(score, verdict.SetScore);
            }
        }, iter: 1500);
    }

    [Fact]
    public void Evaluate_RandomTopologies_ScoresStayInRange()
    {
        var engine = new PlacementEngine(ScoreWeights.Default);
        var catalog = new ShapeCatalog();
        Cases.Sample(c =>
        {
            var verdict = engine.Evaluate(engine.Compile(c.Request), catalog.GetOrAdd(c.Topology), c.Free, Metal);
            if (verdict.Feasible)
            {
                Assert.InRange(verdict.Score, 0, verdict.MaxScore);
                Assert.InRange(verdict.ProtocolScore, 0, 10);
                Assert.Equal(c.Request.Count, BitOperations.PopCount(verdict.Gpus));
                Assert.Equal(0UL, verdict.Gpus & ~c.Free);
            }
        }, iter: 1500);
    }

    [Fact]
    public void Evaluate_MoreFreeGpus_NeverMakesNodeInfeasible()
    {
        var engine = new PlacementEngine(ScoreWeights.Default);
        var catalog = new ShapeCatalog();
        Gen.Select(Cases, Gen.ULong).Sample((c, extra) =>
        {
            var shape = catalog.GetOrAdd(c.Topology);
            var request = engine.Compile(c.Request);
            var more = (c.Free | extra) & shape.AllGpus;
            if (engine.Evaluate(request, shape, c.Free, Metal).Feasible)
            {
                Assert.True(engine.Evaluate(request, shape, more, Metal).Feasible);
            }
        }, iter: 1500);
    }

    [Fact]
    public void Evaluate_InfeasibleWhenEmpty_IsMarkedUnresolvable()
    {
        var engine = new PlacementEngine(ScoreWeights.Default);
        var catalog = new ShapeCatalog();
        Cases.Sample(c =>
        {
            var shape = catalog.GetOrAdd(c.Topology);
            var request = engine.Compile(c.Request);
            var now = engine.Evaluate(request, shape, c.Free, Metal);
            var empty = engine.Evaluate(request, shape, shape.AllGpus, Metal);
            if (!now.Feasible)
            {
                Assert.Equal(!empty.Feasible, now.Unresolvable);
            }
        }, iter: 1000);
    }

    [Fact]
    public void Evaluate_Above16Gpus_NeverInfeasibleWhenAValidSetExists()
    {
        // 17–18 GPUs keep brute force (2^18 subsets) affordable while forcing the heuristic path.
        var engine = new PlacementEngine(ScoreWeights.Default);
        var catalog = new ShapeCatalog();
        var gen = from t in RandomTopologies.Topology(17, 18)
                  from free in Gen.ULong
                  from r in RandomTopologies.Request(5)
                  select (t, free & ((1UL << t.GpuCount) - 1), r);
        gen.Sample(c =>
        {
            var shape = catalog.GetOrAdd(c.Item1);
            var verdict = engine.Evaluate(engine.Compile(c.Item3), shape, c.Item2, Metal);
            var (feasible, _, best) = BruteForce.Best(shape, engine.Weights, c.Item3, c.Item2);
            Assert.Equal(feasible, verdict.Feasible);
            if (feasible)
            {
                Assert.InRange(verdict.SetScore, 0, best);
            }
        }, iter: 40, threads: 1);
    }

    [Fact]
    public void LargestFeasibleCount_MatchesEvaluate()
    {
        var engine = new PlacementEngine(ScoreWeights.Default);
        var catalog = new ShapeCatalog();
        Cases.Sample(c =>
        {
            var shape = catalog.GetOrAdd(c.Topology);
            var largest = engine.LargestFeasibleCount(c.Request, shape, c.Free, MachineKind.BareMetal);
            if (largest > 0)
            {
                Assert.True(engine.Evaluate(engine.Compile(c.Request with { Count = largest }), shape, c.Free, Metal).Feasible);
            }

            if (largest < shape.GpuCount)
            {
                Assert.False(engine.Evaluate(engine.Compile(c.Request with { Count = largest + 1 }), shape, c.Free, Metal).Feasible);
            }
        }, iter: 1000);
    }
}
