namespace SchedExt.Topology.Requests;

/// <summary>A pod's GPU count as Kubernetes accounts for it: max(sum over containers, max over init containers).</summary>
/// <remarks>
/// Init containers run one at a time before the app containers, so a pod holds the larger of the two
/// (k8s.io/component-helpers/resource <c>PodRequests</c>; the kubelet admits and the device plugin allocates the same way).
/// A container's count is its limit, else its request: extended resources cannot be overcommitted, so a limit implies an
/// equal request (core/v1 validation). The extender's filter, its binder and the webhook all count through this type, so
/// the count the webhook annotates and checks is the count the extender places.
/// </remarks>
public struct PodGpuTally
{
    /// <summary>A count beyond any node saturates here (half of long's range), so summing containers cannot overflow.</summary>
    public const long Saturated = long.MaxValue / 2;

    private long _containers;
    private long _initMax;

    /// <summary>The pod's effective count so far.</summary>
    public readonly long Total => Math.Max(_containers, _initMax);

    /// <summary>One container's count: its limit when it has one, else its request, else 0; a negative value counts as 0.</summary>
    public static long ContainerCount(long? limit, long? request) => Math.Clamp(limit ?? request ?? 0, 0, Saturated);

    /// <summary>Adds an app container (<c>spec.containers</c>): these run together, so their counts add up.</summary>
    public void AddContainer(long count) => _containers = Math.Min(_containers + Math.Clamp(count, 0, Saturated), Saturated);

    /// <summary>Adds an init container (<c>spec.initContainers</c>): these run one at a time, so only the largest counts.</summary>
    public void AddInitContainer(long count) => _initMax = Math.Max(_initMax, Math.Clamp(count, 0, Saturated));
}
