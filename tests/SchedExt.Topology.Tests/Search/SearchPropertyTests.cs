using System.Numerics;
using CsCheck;
using SchedExt.Topology.Model;
using SchedExt.Topology.Requests;
using SchedExt.Topology.Scoring;
using SchedExt.Topology.Search;
using SchedExt.Topology.Shapes;

namespace SchedExt.Topology.Tests.Search;

public sealed class SearchPropertyTests
{
    private static readonly Gen<Case> Cases = CasesOf(1, 10, maxCount: 6);

    [Fact]
    public void Evaluate_RandomTopologiesUpTo10Gpus_EqualsBruteForce() =>
        Gen.Select(Cases, RandomTopologies.Weights()).Sample(AssertEqualsBruteForce, iter: 1500);

    [Fact]
    public void Evaluate_RandomTopologiesOf11To16Gpus_EqualsBruteForce()
    {
        // The exact, memoised path up to NodeShape.ExactSearchLimit: GPU masks up to bit 15 and, with large weights, set
        // scores past 16 bits go through the memo's packing. Brute force walks 2^16 subsets here, hence fewer cases.
        Gen.Select(CasesOf(11, NodeShape.ExactSearchLimit, maxCount: NodeShape.ExactSearchLimit), RandomTopologies.Weights())
            .Sample(AssertEqualsBruteForce, iter: 600, threads: 1);
    }

    /// <summary>
    /// The engine's verdict equals brute force: feasibility, the GPU set, the set score and the node score (set score
    /// plus the machine and placement-group parts); for an infeasible node, a count below the request (exactly the free
    /// GPUs, or the largest valid group, where the reason names those), the same when read back from the memo.
    /// </summary>
    private static void AssertEqualsBruteForce(Case c, ScoreWeights weights)
    {
        var engine = new PlacementEngine(weights);
        var shape = new ShapeCatalog().GetOrAdd(c.Topology);
        var request = engine.Compile(c.Request);
        var verdict = engine.Evaluate(request, shape, c.Free, c.Context);
        var nodeParts = BruteForce.NodeParts(weights, c.Request.Machine, c.Context);
        if (nodeParts is null)
        {
            Assert.Equal((Infeasibility.MachineKindMismatch, true), (verdict.Reason, verdict.Unresolvable));
            return;
        }

        var (feasible, gpus, score) = BruteForce.Best(shape, weights, c.Request, c.Free);
        Assert.Equal(feasible, verdict.Feasible);
        if (feasible)
        {
            Assert.Equal((gpus, score, score + nodeParts.Value), (verdict.Gpus, verdict.SetScore, verdict.Score));
            return;
        }

        Assert.InRange(verdict.Have, 0, c.Request.Count - 1);
        if (verdict.Reason == Infeasibility.NotEnoughFree)
        {
            Assert.Equal(BitOperations.PopCount(c.Free), verdict.Have);
        }
        else if (verdict.Reason == Infeasibility.LinkTooWeak)
        {
            Assert.Equal(BruteForce.LargestGroup(shape, c.Request, c.Free), verdict.Have);
        }

        // The second evaluation reads the packed memo entry the first one wrote.
        var again = engine.Evaluate(request, shape, c.Free, c.Context);
        Assert.Equal((verdict.Reason, verdict.Have), (again.Reason, again.Have));
    }

    private static Gen<Case> CasesOf(int minGpus, int maxGpus, int maxCount) =>
        from t in RandomTopologies.Topology(minGpus, maxGpus)
        from free in RandomTopologies.Free(t.GpuCount)
        from r in RandomTopologies.Request(maxCount)
        from context in RandomTopologies.Context()
        select new Case(t, free, r, context);

    [Fact]
    public void Evaluate_RandomTopologies_ScoresStayInRange()
    {
        var engine = new PlacementEngine(ScoreWeights.Default);
        var catalog = new ShapeCatalog();
        Cases.Sample(c =>
        {
            var verdict = engine.Evaluate(engine.Compile(c.Request), catalog.GetOrAdd(c.Topology), c.Free, c.Context);
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
            if (engine.Evaluate(request, shape, c.Free, c.Context).Feasible)
            {
                Assert.True(engine.Evaluate(request, shape, more, c.Context).Feasible);
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
            var now = engine.Evaluate(request, shape, c.Free, c.Context);
            var empty = engine.Evaluate(request, shape, shape.AllGpus, c.Context);
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
        CasesOf(17, 18, maxCount: 5).Sample(c =>
        {
            var shape = catalog.GetOrAdd(c.Topology);
            var verdict = engine.Evaluate(engine.Compile(c.Request), shape, c.Free, c.Context);
            var (feasible, _, best) = BruteForce.Best(shape, engine.Weights, c.Request, c.Free);
            Assert.Equal(feasible && BruteForce.NodeParts(engine.Weights, c.Request.Machine, c.Context) is not null, verdict.Feasible);
            if (verdict.Feasible)
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
            var largest = engine.LargestFeasibleCount(c.Request, shape, c.Free, c.Context.Machine);
            if (largest > 0)
            {
                Assert.True(engine.Evaluate(engine.Compile(c.Request with { Count = largest }), shape, c.Free, c.Context).Feasible);
            }

            if (largest < shape.GpuCount)
            {
                Assert.False(engine.Evaluate(engine.Compile(c.Request with { Count = largest + 1 }), shape, c.Free, c.Context).Feasible);
            }
        }, iter: 1000);
    }

    /// <summary>One generated node: its topology, free GPUs, the pod's request and where the node stands.</summary>
    private sealed record Case(NodeTopology Topology, ulong Free, GpuRequest Request, NodeContext Context);
}
