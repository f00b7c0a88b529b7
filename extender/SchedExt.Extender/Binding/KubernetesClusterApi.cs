using System.Globalization;
using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Options;
using SchedExt.Topology.Requests;

namespace SchedExt.Extender.Binding;

/// <summary>The binder's API operations over KubernetesClient; claims are coordination.k8s.io Leases in the claim namespace.</summary>
internal sealed class KubernetesClusterApi(IKubernetes client, IOptionsMonitor<ExtenderOptions> options, TimeProvider time) : IClusterApi
{
    private const string ManagedBy = "app.kubernetes.io/managed-by";
    private const string ManagedByValue = "schedext";
    private const string HolderPod = "schedext.io/pod";
    private const string HolderUid = "schedext.io/pod-uid";
    private const string HolderNode = "schedext.io/node";
    private const string HolderGpu = "schedext.io/gpu";
    private const string HolderReplica = "schedext.io/replica";

    private string ClaimNamespace => options.CurrentValue.ClaimNamespace;

    public async Task<PodRecord?> GetPodAsync(string ns, string name, CancellationToken cancellationToken)
    {
        try
        {
            var pod = await client.CoreV1.ReadNamespacedPodAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
            return ToRecord(pod, options.CurrentValue.GpuResourceName);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    internal static PodRecord ToRecord(V1Pod pod, string gpuResource)
    {
        var annotations = pod.Metadata?.Annotations is { } a
            ? new Dictionary<string, string>(a, StringComparer.Ordinal)
            : new Dictionary<string, string>(StringComparer.Ordinal);
        return new PodRecord(
            pod.Metadata?.Uid ?? string.Empty,
            string.IsNullOrEmpty(pod.Spec?.NodeName) ? null : pod.Spec.NodeName,
            pod.Status?.Phase,
            pod.Metadata?.DeletionTimestamp is not null,
            GpuCount(pod.Spec, gpuResource),
            annotations);
    }

    /// <summary>The pod's GPU count from its containers' limits (or requests), sidecars included; see <see cref="PodGpuTally"/>.</summary>
    internal static long GpuCount(V1PodSpec? spec, string gpuResource)
    {
        static long Of(V1Container c, string resource) => PodGpuTally.ContainerCount(
            c.Resources?.Limits?.TryGetValue(resource, out var l) == true ? Count(l) : null,
            c.Resources?.Requests?.TryGetValue(resource, out var r) == true ? Count(r) : null);

        // A count beyond any node (e.g. "1e100", which a decimal cannot hold) saturates: such a pod holds everything.
        static long Count(ResourceQuantity quantity)
        {
            try
            {
                var value = quantity.ToDecimal();
                return value >= PodGpuTally.Saturated ? PodGpuTally.Saturated : (long)value;
            }
            catch (OverflowException)
            {
                return PodGpuTally.Saturated;
            }
        }

        var tally = default(PodGpuTally);
        foreach (var c in spec?.Containers ?? [])
        {
            tally.AddContainer(Of(c, gpuResource));
        }

        foreach (var c in spec?.InitContainers ?? [])
        {
            tally.AddInitContainer(Of(c, gpuResource), restartable: c.RestartPolicy == "Always");
        }

        return tally.Total;
    }

    public async Task BindAsync(string ns, string name, string uid, string node, IReadOnlyDictionary<string, string>? annotations, CancellationToken cancellationToken)
    {
        // Like kube-scheduler's DefaultBinder, the Binding carries the pod UID so a recreated pod is not bound by mistake.
        // Its annotations are set on the pod by the API server in the same update as spec.nodeName, and only if the pod
        // is not bound yet: an assignment can never land on a pod another bind won.
        var binding = new V1Binding
        {
            Metadata = new V1ObjectMeta
            {
                Name = name,
                NamespaceProperty = ns,
                Uid = uid,
                Annotations = annotations is null ? null : new Dictionary<string, string>(annotations, StringComparer.Ordinal),
            },
            Target = new V1ObjectReference { ApiVersion = "v1", Kind = "Node", Name = node },
        };
        try
        {
            await client.CoreV1.CreateNamespacedPodBindingAsync(binding, name, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            throw new ApiConflictException($"the API server refused the binding: {e.Response.Content}", e);
        }
    }

    public async Task RecordEventAsync(string ns, string name, string uid, string type, string reason, string message, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var evt = new Corev1Event
        {
            Metadata = new V1ObjectMeta { GenerateName = name + ".", NamespaceProperty = ns },
            InvolvedObject = new V1ObjectReference { ApiVersion = "v1", Kind = "Pod", Name = name, NamespaceProperty = ns, Uid = uid },
            Type = type,
            Reason = reason,
            Message = message,
            Source = new V1EventSource { Component = "schedext-extender" },
            ReportingComponent = "schedext.io/extender",
            ReportingInstance = Environment.MachineName,
            FirstTimestamp = now,
            LastTimestamp = now,
            Count = 1,
        };
        await client.CoreV1.CreateNamespacedEventAsync(evt, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    public async Task<ClaimOutcome> TryClaimAsync(string claimName, ClaimHolder holder, CancellationToken cancellationToken)
    {
        var lease = new V1Lease
        {
            Metadata = new V1ObjectMeta
            {
                Name = claimName,
                NamespaceProperty = ClaimNamespace,
                Labels = new Dictionary<string, string> { [ManagedBy] = ManagedByValue },
                Annotations = new Dictionary<string, string>
                {
                    [HolderPod] = holder.Namespace + "/" + holder.PodName,
                    [HolderUid] = holder.PodUid,
                    [HolderNode] = holder.Node,
                    [HolderGpu] = holder.Gpu.ToString(CultureInfo.InvariantCulture),
                    [HolderReplica] = holder.Replica,
                },
            },
            Spec = new V1LeaseSpec { HolderIdentity = holder.PodUid, AcquireTime = time.GetUtcNow().UtcDateTime },
        };
        try
        {
            // POST fails with 409 AlreadyExists when the object exists: the API server's create is the atomic test-and-set.
            var created = await client.CoordinationV1.CreateNamespacedLeaseAsync(lease, ClaimNamespace, cancellationToken: cancellationToken).ConfigureAwait(false);
            return new ClaimOutcome(true, null, created.Metadata?.ResourceVersion);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            try
            {
                var existing = await client.CoordinationV1.ReadNamespacedLeaseAsync(claimName, ClaimNamespace, cancellationToken: cancellationToken).ConfigureAwait(false);
                return new ClaimOutcome(false, ToClaim(existing));
            }
            catch (HttpOperationException gone) when (gone.Response.StatusCode == HttpStatusCode.NotFound)
            {
                // Released between our create and our read: nobody to judge; the caller tries the create again.
                return new ClaimOutcome(false, null);
            }
        }
    }

    public async Task ReleaseClaimAsync(string claimName, string? resourceVersion, CancellationToken cancellationToken)
    {
        var body = resourceVersion is null ? null : new V1DeleteOptions { Preconditions = new V1Preconditions { ResourceVersion = resourceVersion } };
        try
        {
            await client.CoordinationV1.DeleteNamespacedLeaseAsync(claimName, ClaimNamespace, body, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict)
        {
            // Gone already, or replaced by a newer claim that is not ours to delete.
        }
    }

    public async Task<IReadOnlyList<ClaimRecord>> ListClaimsAsync(CancellationToken cancellationToken)
    {
        var list = await client.CoordinationV1.ListNamespacedLeaseAsync(ClaimNamespace, labelSelector: $"{ManagedBy}={ManagedByValue}", cancellationToken: cancellationToken).ConfigureAwait(false);
        return list.Items.Select(ToClaim).ToList();
    }

    private static ClaimRecord ToClaim(V1Lease lease)
    {
        IReadOnlyDictionary<string, string> a = lease.Metadata?.Annotations is { } annotations ? new Dictionary<string, string>(annotations) : new Dictionary<string, string>();
        var pod = a.GetValueOrDefault(HolderPod) ?? "/";
        var slash = pod.IndexOf('/', StringComparison.Ordinal);
        var gpu = int.TryParse(a.GetValueOrDefault(HolderGpu), NumberStyles.None, CultureInfo.InvariantCulture, out var g) ? g : -1;
        var holder = new ClaimHolder(
            lease.Spec?.HolderIdentity ?? a.GetValueOrDefault(HolderUid) ?? string.Empty,
            slash < 0 ? string.Empty : pod[..slash],
            slash < 0 ? pod : pod[(slash + 1)..],
            a.GetValueOrDefault(HolderNode) ?? string.Empty,
            gpu,
            a.GetValueOrDefault(HolderReplica) ?? string.Empty);
        DateTimeOffset? created = lease.Metadata?.CreationTimestamp is { } c ? new DateTimeOffset(DateTime.SpecifyKind(c, DateTimeKind.Utc)) : null;
        return new ClaimRecord(lease.Metadata?.Name ?? string.Empty, holder, lease.Metadata?.ResourceVersion, created);
    }
}
