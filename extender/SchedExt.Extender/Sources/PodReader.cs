using k8s.Models;
using SchedExt.Extender.State;
using SchedExt.Topology.Requests;

namespace SchedExt.Extender.Sources;

/// <summary>
/// Turns a Kubernetes Pod into the GPUs it holds (<see cref="PodAllocation"/>), or null when it holds none: not bound,
/// finished, gone apart from its API object, or without a readable <c>schedext.io/assigned-gpus</c> annotation.
/// </summary>
internal sealed class PodReader(ILogger<PodReader> logger, Microsoft.Extensions.Options.IOptions<ExtenderOptions>? options = null)
{
    private readonly string _gpuResource = options?.Value.GpuResourceName ?? SchedExtKeys.GpuResource;

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
        var group = metadata.Annotations?.ValueOf(SchedExtKeys.PlacementGroup);
        var ns = metadata.NamespaceProperty ?? "default";
        var held = Binding.KubernetesClusterApi.GpuCount(pod.Spec, _gpuResource);
        var priority = pod.Spec?.Priority ?? 0;
        if (value is not null && AssignedGpus.TryParse(value, out var gpus))
        {
            // An annotation naming fewer GPUs than the pod holds (copied from another pod's manifest, or left by another
            // scheduler): the GPUs it does not name are in use somewhere on the node, which then counts as taken.
            var unnamed = held - System.Numerics.BitOperations.PopCount(gpus);
            return new PodAllocation(uid, ns, metadata.Name ?? uid, node, gpus, string.IsNullOrEmpty(group) ? null : group, GpuCount(unnamed), priority);
        }

        if (value is not null)
        {
            logger.PodAssignedGpusMalformed(metadata.NamespaceProperty ?? string.Empty, metadata.Name ?? uid, node, value);
        }

        // A bound pod that holds GPUs nobody recorded (another scheduler placed it, or its annotation is unreadable):
        // ignoring it would hand its devices out again, so its node counts as fully taken while it runs.
        return held > 0 ? new PodAllocation(uid, ns, metadata.Name ?? uid, node, 0, null, GpuCount(held), priority) : null;
    }

    /// <summary>A count of GPUs as the allocation keeps it: none when not positive, saturated at <see cref="int.MaxValue"/>.</summary>
    private static int GpuCount(long count) => count > 0 ? (int)Math.Min(count, int.MaxValue) : 0;

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
