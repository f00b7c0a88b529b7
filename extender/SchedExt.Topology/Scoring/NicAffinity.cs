using SchedExt.Topology.Requests;
using SchedExt.Topology.Shapes;

namespace SchedExt.Topology.Scoring;

/// <summary>Share of the set's GPUs with an RDMA NIC at PIX/PXB distance, 0..1000: <c>1000 × near / count</c>; 1000 when the pod needs no NIC.</summary>
public static class NicAffinity
{
    public static int Score(NodeShape shape, ulong gpus, NicNeed need)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var count = System.Numerics.BitOperations.PopCount(gpus);
        if (need == NicNeed.None || count == 0)
        {
            return ScoreWeights.PartScale;
        }

        return ScoreWeights.PartScale * System.Numerics.BitOperations.PopCount(gpus & shape.NearNicGpus) / count;
    }
}
