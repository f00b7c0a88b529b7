using SchedExt.Topology.Shapes;

namespace SchedExt.Topology.Scoring;

/// <summary>How many NUMA nodes a set spans, 0..1000: <c>1000 / span</c> (one node 1000, two 500, four 250).</summary>
public static class NumaSpan
{
    public static int Score(NodeShape shape, ulong gpus)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ulong numa = 0;
        for (var a = gpus; a != 0; a &= a - 1)
        {
            numa |= shape.NumaBit(System.Numerics.BitOperations.TrailingZeroCount(a));
        }

        var span = System.Numerics.BitOperations.PopCount(numa);
        return span == 0 ? ScoreWeights.PartScale : ScoreWeights.PartScale / span;
    }
}
