using k8s.Models;
using SchedExt.Extender.State;
using SchedExt.Topology.Requests;

namespace SchedExt.Extender.Sources;

/// <summary>
/// Turns a Kubernetes Pod into the GPUs it holds (<see cref="PodAllocation"/>), or null when it holds none: not bound,
/// finished, gone apart from its API object, or without a readable <c>schedext.io/assigned-gpus</c> annotation.
/// </summary>
internal sealed class PodReader(ILogger<PodReader> logger)
{
    /// <summary>The field selector that lists only pods that can hold GPUs (bound and not finished); supported by the API server for pods.</summary>
    public const string HoldingGpusFieldSelector = "spec.nodeName!=,status.phase!=Succeeded,status.phase!=Failed";

    public PodAllocation? Read(V1Pod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        var metadata = pod.Metadata;
        var node = pod.Spec?.NodeName;
        if (metadata?.Uid is not { Length: > 0 } uid || string.IsNullOrEmpty(node) || IsFinished(pod))
        {
            return null;
        }

        var value = metadata.Annotations?.ValueOf(SchedExtKeys.AssignedGpus);
        if (value is null)
        {
            return null;
        }

        if (!AssignedGpus.TryParse(value, out var gpus))
        {
            logger.PodAssignedGpusMalformed(metadata.NamespaceProperty ?? string.Empty, metadata.Name ?? uid, node, value);
            return null;
        }

        var group = metadata.Annotations!.ValueOf(SchedExtKeys.PlacementGroup);
        return new PodAllocation(uid, metadata.NamespaceProperty ?? "default", metadata.Name ?? uid, node, gpus, string.IsNullOrEmpty(group) ? null : group);
    }

    /// <summary>
    /// True when the pod's containers can no longer use GPUs. A pod that is being deleted keeps its GPUs until every
    /// container has terminated: the kubelet may still be running it through its grace period.
    /// </summary>
    private static bool IsFinished(V1Pod pod)
    {
        var phase = pod.Status?.Phase;
        if (phase is "Succeeded" or "Failed")
        {
            return true;
        }

        if (pod.Metadata.DeletionTimestamp is null)
        {
            return false;
        }

        var statuses = pod.Status?.ContainerStatuses;
        return statuses is { Count: > 0 } && statuses.All(s => s.State?.Terminated is not null);
    }
}
