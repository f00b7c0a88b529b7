using SchedExt.Topology.Model;
using SchedExt.Topology.Shapes;

namespace SchedExt.Topology.Scoring;

/// <summary>How well the GPUs of a set are joined, 0..1000.</summary>
/// <remarks>
/// Each pair earns link points: SYS 0, NODE 20, PHB 30, PXB 45, PIX 55, NV<i>n</i> min(100, 70 + 2n) (NV1 72,
/// NV2 74, NV6 82, NV12 94, NV15 and up 100). The weakest pair bounds collective bandwidth, so it counts three times:
/// <c>quality = (3 × min + mean) × 1000 / 400</c>, integer division throughout. A single GPU scores 1000.
/// </remarks>
public static class LinkQuality
{
    public static int Score(NodeShape shape, ulong gpus)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var count = System.Numerics.BitOperations.PopCount(gpus);
        if (count < 2)
        {
            return ScoreWeights.PartScale;
        }

        int min = int.MaxValue, sum = 0, pairs = 0;
        for (var a = gpus; a != 0; a &= a - 1)
        {
            var i = System.Numerics.BitOperations.TrailingZeroCount(a);
            for (var b = a & (a - 1); b != 0; b &= b - 1)
            {
                var points = Link.Points(shape.LinkCode(i, System.Numerics.BitOperations.TrailingZeroCount(b)));
                min = Math.Min(min, points);
                sum += points;
                pairs++;
            }
        }

        return ((3 * min) + (sum / pairs)) * ScoreWeights.PartScale / 400;
    }
}
