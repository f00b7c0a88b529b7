using System.Globalization;
using k8s.Models;

namespace SchedExt.Testing;

/// <summary>Builds Kubernetes Node and Pod objects the way a cluster would hold them, for reader, source and API tests.</summary>
public static class KubeObjects
{
    /// <summary>A node with <paramref name="gpus"/> allocatable <c>nvidia.com/gpu</c> (omitted when null) and the given annotation and labels.</summary>
    public static V1Node Node(string name, int? gpus, string? topologyAnnotation = null, IDictionary<string, string>? labels = null, string gpuResource = "nvidia.com/gpu")
    {
        var allocatable = new Dictionary<string, ResourceQuantity>(StringComparer.Ordinal) { ["cpu"] = new("64") };
        if (gpus is { } n)
        {
            allocatable[gpuResource] = new(n.ToString(CultureInfo.InvariantCulture));
        }

        return new V1Node
        {
            ApiVersion = "v1",
            Kind = "Node",
            Metadata = new V1ObjectMeta
            {
                Name = name,
                Labels = labels is null ? new Dictionary<string, string>(StringComparer.Ordinal) : new Dictionary<string, string>(labels, StringComparer.Ordinal),
                Annotations = topologyAnnotation is null ? null : new Dictionary<string, string>(StringComparer.Ordinal) { ["schedext.io/topology"] = topologyAnnotation },
            },
            Status = new V1NodeStatus { Allocatable = allocatable, Capacity = new Dictionary<string, ResourceQuantity>(allocatable, StringComparer.Ordinal) },
        };
    }

    /// <summary>A pod, bound to <paramref name="node"/> when given, with <c>schedext.io/assigned-gpus</c> when <paramref name="assignedGpus"/> is given.</summary>
    public static V1Pod Pod(string ns, string name, string? node, string? assignedGpus, string phase = "Running", string? placementGroup = null, string? uid = null)
    {
        var annotations = new Dictionary<string, string>(StringComparer.Ordinal);
        if (assignedGpus is not null)
        {
            annotations["schedext.io/assigned-gpus"] = assignedGpus;
        }

        if (placementGroup is not null)
        {
            annotations["schedext.io/placement-group"] = placementGroup;
        }

        return new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Uid = uid ?? $"uid-{ns}-{name}", Annotations = annotations },
            Spec = new V1PodSpec
            {
                NodeName = node,
                Containers = [new V1Container { Name = "main", Image = "busybox" }],
            },
            Status = new V1PodStatus { Phase = phase },
        };
    }
}
