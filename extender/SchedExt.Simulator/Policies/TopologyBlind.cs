using System.Numerics;
using SchedExt.Extender.State;
using SchedExt.Topology.Requests;
using SchedExt.Topology.Scoring;

namespace SchedExt.Simulator.Policies;

/// <summary>
/// What a cluster without SchedExt checks: kube-scheduler counts the extended resource and honours a required machine
/// kind (as a node selector would); interconnect, RDMA and preferences are invisible to it.
/// </summary>
internal static class TopologyBlind
{
    /// <summary>A class key for jobs the blind scheduler cannot tell apart: GPU count and required machine kind.</summary>
    public static int ClassOf(GpuRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var machine = request.Machine is MachinePolicy.RequireBareMetal or MachinePolicy.RequireVm ? request.Machine : MachinePolicy.Any;
        return (request.Count << 8) | (int)machine;
    }

    /// <summary>True when <paramref name="node"/> is eligible at all: enough GPUs in total and an allowed machine kind.</summary>
    public static bool Eligible(GpuRequest request, NodeState node) =>
        node.Shape.GpuCount >= request.Count && !MachineFit.Excludes(request.Machine, node.Info.Machine);

    /// <summary>True when <paramref name="node"/> is eligible and has enough free GPUs now.</summary>
    public static bool FitsNow(GpuRequest request, NodeState node) =>
        Eligible(request, node) && BitOperations.PopCount(node.FreeGpus) >= request.Count;
}
