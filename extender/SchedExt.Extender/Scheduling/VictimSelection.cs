using SchedExt.Extender.State;

namespace SchedExt.Extender.Scheduling;

/// <summary>What a preemption victim frees on a node.</summary>
internal static class VictimSelection
{
    /// <summary>GPUs a victim holds on <paramref name="node"/>: from the snapshot, else from the annotation the scheduler sent.</summary>
    public static ulong GpusOf(ClusterSnapshot snapshot, string node, string uid, string? assignedAnnotation)
    {
        if (snapshot.Allocations.TryGetValue(uid, out var allocation))
        {
            return allocation.Node == node ? allocation.Gpus : 0;
        }

        return assignedAnnotation is not null && AssignedGpus.TryParse(assignedAnnotation, out var mask) ? mask : 0;
    }
}
