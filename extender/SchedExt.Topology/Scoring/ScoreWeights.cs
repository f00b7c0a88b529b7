namespace SchedExt.Topology.Scoring;

/// <summary>Relative weights of the score parts; each part is 0..1000 and the node score is their weighted sum.</summary>
public sealed record ScoreWeights
{
    /// <summary>Weights used when none are configured: link quality matters most, then keeping the node's leftovers useful.</summary>
    public static ScoreWeights Default { get; } = new();

    public int LinkQuality { get; init; } = 4;

    public int NumaSpan { get; init; } = 2;

    public int NicAffinity { get; init; } = 2;

    public int Leftover { get; init; } = 3;

    public int Machine { get; init; } = 2;

    public int PlacementGroup { get; init; } = 1;

    /// <summary>The largest possible node score: 1000 × the sum of the weights.</summary>
    public int MaxScore => PartScale * (LinkQuality + NumaSpan + NicAffinity + Leftover + Machine + PlacementGroup);

    /// <summary>Every part is scaled to 0..PartScale.</summary>
    public const int PartScale = 1000;

    /// <summary>Throws <see cref="ArgumentException"/> for negative weights, all-zero weights or sums that could overflow.</summary>
    public void Validate()
    {
        int[] all = [LinkQuality, NumaSpan, NicAffinity, Leftover, Machine, PlacementGroup];
        if (all.Any(w => w is < 0 or > 1000))
        {
            throw new ArgumentException("score weights must be within 0..1000");
        }

        if (all.Sum() == 0)
        {
            throw new ArgumentException("at least one score weight must be positive");
        }
    }
}
