using System.Numerics;
using SchedExt.Topology.Shapes;

namespace SchedExt.Topology.Scoring;

/// <summary>Best fit: how useful the node's free GPUs are after the allocation, 0..1000.</summary>
/// <remarks>
/// With <c>R</c> the GPUs still free afterwards and <c>n</c> the node's GPU count:
/// <list type="bullet">
/// <item>R empty (the pod fills the node exactly): 1000.</item>
/// <item>otherwise <c>(packing + connectivity) / 2</c>, where <c>packing = 1000 × (n − |R|) / n</c> prefers busy nodes
/// over empty ones, and <c>connectivity = 1000 × G / |R|</c>, with G the largest group in R joined at the shape's
/// strongest tier, prefers allocations that keep the rest of the node one well-connected block.</item>
/// </list>
/// </remarks>
public static class LeftoverFit
{
    public static int Score(NodeShape shape, ulong freeGpus, ulong gpus)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var rest = freeGpus & ~gpus & shape.AllGpus;
        var left = BitOperations.PopCount(rest);
        if (left == 0)
        {
            return ScoreWeights.PartScale;
        }

        var packing = ScoreWeights.PartScale * (shape.GpuCount - left) / shape.GpuCount;
        var connectivity = ScoreWeights.PartScale * shape.LargestGroup(shape.StrongestTier, rest) / left;
        return (packing + connectivity) / 2;
    }
}
