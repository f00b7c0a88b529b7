namespace SchedExt.Extender.State;

/// <summary>GPUs held by one pod on one node, as recorded in its <c>schedext.io/assigned-gpus</c> annotation (or reserved in flight).</summary>
/// <param name="Uid">The pod's UID.</param>
/// <param name="Namespace">The pod's namespace.</param>
/// <param name="Name">The pod's name.</param>
/// <param name="Node">The node the GPUs are on.</param>
/// <param name="Gpus">GPU index mask.</param>
/// <param name="PlacementGroup">The pod's <c>schedext.io/placement-group</c>, or null.</param>
/// <param name="UnassignedGpus">
/// GPUs the pod holds that no valid <c>schedext.io/assigned-gpus</c> names (placed by another scheduler, or a malformed
/// annotation). Which devices they are is unknown, so the whole node counts as taken while the pod runs.
/// </param>
/// <param name="Priority">The pod's <c>spec.priority</c>: only pods below a preemptor's may be added as its victims.</param>
internal sealed record PodAllocation(string Uid, string Namespace, string Name, string Node, ulong Gpus, string? PlacementGroup, int UnassignedGpus = 0, int Priority = 0);
