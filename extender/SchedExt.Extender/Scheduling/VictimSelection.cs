using SchedExt.Extender.Protocol;
using SchedExt.Extender.State;

namespace SchedExt.Extender.Scheduling;

/// <summary>What evicting a node's preemption victims leaves taken.</summary>
internal static class VictimSelection
{
    /// <summary>
    /// GPUs still held once <paramref name="victims"/> are gone, from the <paramref name="allocations"/> on the node: a
    /// pod holding GPUs without a recorded assignment could hold any of them, so it keeps them all. Victims the snapshot
    /// does not know hold nothing it counts, so evicting them frees nothing it would not already offer.
    /// </summary>
    public static ulong TakenWithout(IEnumerable<PodAllocation> allocations, List<Victim> victims)
    {
        ulong taken = 0;
        foreach (var allocation in allocations)
        {
            if (!IsVictim(allocation.Uid, victims))
            {
                taken |= allocation.UnassignedGpus > 0 ? ulong.MaxValue : allocation.Gpus;
            }
        }

        return taken;
    }

    private static bool IsVictim(string uid, List<Victim> victims)
    {
        foreach (var victim in victims)
        {
            if (string.Equals(victim.Uid, uid, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
