using System.Globalization;
using SchedExt.Topology.Model;
using SchedExt.Topology.Requests;

namespace SchedExt.Webhook.Feasibility;

/// <summary>Feasibility over the cluster's node shapes: a request is feasible when at least one shape can hold it on an empty node.</summary>
internal sealed class ShapeFeasibility : IShapeFeasibility
{
    public FeasibilityVerdict Check(GpuRequest request, ClusterSnapshot cluster)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(cluster);
        if (!cluster.IsKnown)
        {
            return FeasibilityVerdict.NotChecked;
        }

        if (cluster.Shapes.Count == 0)
        {
            return new FeasibilityVerdict(true, false, "the cluster has no GPU node", 0);
        }

        var largest = 0;
        string? closestReason = null;
        var closestLargest = -1;
        foreach (var group in cluster.Shapes)
        {
            var (feasible, reason) = Evaluate(request, group);
            if (feasible)
            {
                return new FeasibilityVerdict(true, true, null, request.Count);
            }

            var k = LargestFeasibleCount(request, group);
            largest = Math.Max(largest, k);

            // Report the reason of the shape that came closest: the one that could hold the most GPUs.
            if (k > closestLargest)
            {
                closestLargest = k;
                closestReason = $"{reason} (best node shape: {group.ExampleNode}, {group.Nodes} node(s))";
            }
        }

        return new FeasibilityVerdict(true, false, closestReason, largest);
    }

    private static (bool Feasible, string Reason) Evaluate(GpuRequest request, NodeShapeGroup group)
    {
        var machine = MachineMismatch(request.Machine, group.Machine);
        if (machine is not null)
        {
            return (false, machine);
        }

        var matching = MatchingGpus(request, group.Topology);
        return matching >= request.Count
            ? (true, string.Empty)
            : (false, string.Create(CultureInfo.InvariantCulture, $"{request.Count} GPU(s) requested but a node has at most {matching} matching"));
    }

    private static int LargestFeasibleCount(GpuRequest request, NodeShapeGroup group) =>
        MachineMismatch(request.Machine, group.Machine) is null ? MatchingGpus(request, group.Topology) : 0;

    private static string? MachineMismatch(MachinePolicy policy, MachineKind kind) => policy switch
    {
        MachinePolicy.RequireBareMetal when kind != MachineKind.BareMetal => $"bare metal required, node is {SchedExtKeys.Format(kind)}",
        MachinePolicy.RequireVm when kind != MachineKind.Vm => $"a VM required, node is {SchedExtKeys.Format(kind)}",
        _ => null,
    };

    private static int MatchingGpus(GpuRequest request, NodeTopology topology)
    {
        var n = 0;
        foreach (var gpu in topology.Gpus)
        {
            if ((request.ProductGlob is null || (gpu.Product is not null && ProductGlob.IsMatch(request.ProductGlob, gpu.Product)))
                && (request.MinMemoryMiB == 0 || gpu.MemoryMiB >= request.MinMemoryMiB))
            {
                n++;
            }
        }

        return n;
    }
}
