using SchedExt.Topology.Requests;

namespace SchedExt.Webhook.Feasibility;

/// <summary>Whether a GPU request can ever be placed on some node of the cluster, and if not, why and what the largest placeable count is.</summary>
internal interface IShapeFeasibility
{
    FeasibilityVerdict Check(GpuRequest request, ClusterSnapshot cluster);
}

/// <summary>The answer of <see cref="IShapeFeasibility"/>.</summary>
/// <param name="Checked">False when no GPU node shapes were known (none read yet, or no GPU node): nothing was decided.</param>
/// <param name="Feasible">Some node shape can hold the request when empty.</param>
/// <param name="Reason">Why not, for the closest shape; null when feasible.</param>
/// <param name="LargestCount">The largest GPU count that would be feasible with the same constraints (0 if none).</param>
internal readonly record struct FeasibilityVerdict(bool Checked, bool Feasible, string? Reason, int LargestCount)
{
    public static FeasibilityVerdict NotChecked => new(false, true, null, 0);
}
