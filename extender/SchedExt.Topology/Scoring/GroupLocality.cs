namespace SchedExt.Topology.Scoring;

/// <summary>Placement-group locality, 0..1000: how close this node is to the pods of the group already placed.</summary>
/// <remarks>
/// <c>(1000 × sameRack + 500 × (sameBlock − sameRack)) / placed</c>, where <c>placed</c> counts the group's placed pods,
/// <c>sameRack</c> those on nodes in this node's rack and <c>sameBlock</c> those in this node's block (a rack is inside a
/// block, so sameBlock ≥ sameRack). The first pod of a group, or a pod without a group, scores 1000 everywhere.
/// </remarks>
public static class GroupLocality
{
    public static int Score(int placed, int sameRack, int sameBlock)
    {
        if (placed <= 0)
        {
            return ScoreWeights.PartScale;
        }

        sameRack = Math.Clamp(sameRack, 0, placed);
        sameBlock = Math.Clamp(sameBlock, sameRack, placed);
        return ((ScoreWeights.PartScale * sameRack) + (ScoreWeights.PartScale / 2 * (sameBlock - sameRack))) / placed;
    }
}
