using SchedExt.Simulator.Engine;
using SchedExt.Simulator.Inputs;

namespace SchedExt.Simulator.Policies;

/// <summary>A way of choosing a node and GPUs for a job: SchedExt's, or a baseline that models a cluster without it.</summary>
internal interface IPlacementPolicy
{
    /// <summary>Name in reports and on the command line (<c>schedext</c>, <c>first-fit</c>, <c>random</c>).</summary>
    string Name { get; }

    /// <summary>
    /// A key such that two jobs with equal keys fit on exactly the same (node, free GPUs) pairs. The simulation uses
    /// it to skip a job whose class already failed since the last release.
    /// </summary>
    int ClassOf(SimJob job);

    /// <summary>
    /// Tries to place <paramref name="job"/> on one of <paramref name="candidates"/> (node indices, ascending = name order).
    /// <see cref="PlaceOutcome.Never"/> only when <paramref name="allNodes"/> is true and no node could take the job even empty.
    /// </summary>
    PlaceOutcome TryPlace(SimJob job, SimulatedCluster cluster, ReadOnlySpan<int> candidates, bool allNodes, out int node, out ulong gpus);
}

/// <summary>What a placement attempt concluded.</summary>
internal enum PlaceOutcome : byte
{
    /// <summary>Placed: the node and GPUs are set.</summary>
    Placed,

    /// <summary>No candidate fits now; the job waits for GPUs to be released.</summary>
    Wait,

    /// <summary>No node of the cluster could take the job even with every GPU free.</summary>
    Never,
}
