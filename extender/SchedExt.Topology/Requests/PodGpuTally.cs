namespace SchedExt.Topology.Requests;

/// <summary>
/// A pod's GPU count as Kubernetes accounts for it: max(app containers + sidecars, each init container + the sidecars
/// started before it).
/// </summary>
/// <remarks>
/// Init containers run one at a time before the app containers, except sidecars (init containers with
/// <c>restartPolicy: Always</c>), which keep running beside everything started after them; so a pod holds the larger of
/// its app containers plus sidecars and of any init container plus the sidecars before it (k8s.io/component-helpers/resource
/// <c>PodRequests</c>; the kubelet admits and the device plugin allocates the same way). A container's count is its
/// limit, else its request: extended resources cannot be overcommitted, so a limit implies an equal request (core/v1
/// validation). The extender's filter, its binder and the webhook all count through this type, so the count the webhook
/// annotates and checks is the count the extender places. Init containers must be added in their order.
/// </remarks>
public struct PodGpuTally
{
    /// <summary>A count beyond any node saturates here (half of long's range), so summing containers cannot overflow.</summary>
    public const long Saturated = long.MaxValue / 2;

    private long _running;
    private long _sidecars;
    private long _initMax;

    /// <summary>The pod's effective count so far.</summary>
    public readonly long Total => Math.Max(_running, _initMax);

    /// <summary>One container's count: its limit when it has one, else its request, else 0; a negative value counts as 0.</summary>
    public static long ContainerCount(long? limit, long? request) => Math.Clamp(limit ?? request ?? 0, 0, Saturated);

    /// <summary>Adds an app container (<c>spec.containers</c>): these run together, so their counts add up.</summary>
    public void AddContainer(long count) => _running = Add(_running, count);

    /// <summary>
    /// Adds the next init container (<c>spec.initContainers</c>, in order). An ordinary one runs alone beside the sidecars
    /// started before it; a sidecar (<paramref name="restartable"/>: <c>restartPolicy: Always</c>) keeps running, so it
    /// adds to the app containers and to every init container after it.
    /// </summary>
    public void AddInitContainer(long count, bool restartable = false)
    {
        if (restartable)
        {
            _running = Add(_running, count);
            _sidecars = Add(_sidecars, count);
            _initMax = Math.Max(_initMax, _sidecars);
        }
        else
        {
            _initMax = Math.Max(_initMax, Add(_sidecars, count));
        }
    }

    private static long Add(long sum, long count) => Math.Min(sum + Math.Clamp(count, 0, Saturated), Saturated);
}
