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
    public static ulong TakenWithout(IEnumerable<PodAllocation> allocations, IReadOnlyList<Victim> victims)
    {
        ulong taken = 0;
        foreach (var allocation in allocations)
        {
            if (!IsVictim(allocation.Uid, victims))
            {
                taken |= allocation.UnassignedGpus > 0 ? NodeState.AllHeld : allocation.Gpus;
            }
        }

        return taken;
    }

    public static bool IsVictim(string uid, IReadOnlyList<Victim> victims)
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

    /// <summary>Every choice of <paramref name="size"/> of the indices 0..<paramref name="count"/>-1, in lexicographic order (the array is reused).</summary>
    public static IEnumerable<int[]> Combinations(int count, int size)
    {
        if (size < 1 || size > count)
        {
            yield break;
        }

        var picked = new int[size];
        for (var i = 0; i < size; i++)
        {
            picked[i] = i;
        }

        while (true)
        {
            yield return picked;
            var at = size - 1;
            while (at >= 0 && picked[at] == count - size + at)
            {
                at--;
            }

            if (at < 0)
            {
                yield break;
            }

            picked[at]++;
            for (var j = at + 1; j < size; j++)
            {
                picked[j] = picked[j - 1] + 1;
            }
        }
    }
}
