using k8s.Models;
using SchedExt.Topology.Annotation;
using SchedExt.Topology.Model;
using SchedExt.Topology.Requests;
using SchedExt.Topology.Shapes;

namespace SchedExt.Extender.Tests.Verbs;

/// <summary>
/// The small cluster every golden verb case runs against:
/// <list type="bullet">
/// <item><c>dgx-free</c>: DGX-1V cube-mesh, bare metal, rack r1 / block b1, all 8 GPUs free.</item>
/// <item><c>dgx-split</c>: DGX-1V, bare metal, r1 / b1; pod <c>train/holder-split</c> holds GPUs 0 and 4, so each NVLink quad has only 3 free.</item>
/// <item><c>hgx-vm</c>: HGX H200 (NV18 NVSwitch, 12 NICs), a VM, r2 / b1; pod <c>infer/holder-hgx</c> holds GPUs 0-3.</item>
/// <item><c>pcie-metal</c>: 8× L40S on PCIe, two sockets, bare metal, r3 / b2, all free.</item>
/// <item><c>plain</c>: 4 GPUs, no topology annotation, no machine label.</item>
/// </list>
/// </summary>
internal static class GoldenCluster
{
    public static IEnumerable<object> Objects() =>
    [
        Node("dgx-free", ReferenceTopologies.Dgx1V100, "bare-metal", "r1", "b1"),
        Node("dgx-split", ReferenceTopologies.Dgx1V100, "bare-metal", "r1", "b1"),
        Node("hgx-vm", ReferenceTopologies.HgxH200, "vm", "r2", "b1"),
        Node("pcie-metal", ReferenceTopologies.Pcie8TwoSocket, "bare-metal", "r3", "b2"),
        Node("plain", null, null, null, null, gpus: 4),
        Pod("train", "holder-split", "uid-holder-split", "dgx-split", "0,4"),
        Pod("infer", "holder-hgx", "uid-holder-hgx", "hgx-vm", "0,1,2,3"),
    ];

    public static V1Node Node(string name, NodeTopology? topology, string? machine, string? rack, string? block, int gpus = 0)
    {
        var labels = new Dictionary<string, string> { ["kubernetes.io/hostname"] = name };
        if (machine is not null)
        {
            labels[SchedExtKeys.Machine] = machine;
        }

        if (rack is not null)
        {
            labels["schedext.io/rack"] = rack;
        }

        if (block is not null)
        {
            labels["schedext.io/block"] = block;
        }

        var annotations = topology is null ? null : new Dictionary<string, string> { [SchedExtKeys.Topology] = TopologyAnnotation.Serialize(topology) };
        var count = topology?.GpuCount ?? gpus;
        return new V1Node
        {
            ApiVersion = "v1",
            Kind = "Node",
            Metadata = new V1ObjectMeta { Name = name, Labels = labels, Annotations = annotations, Uid = "node-" + name },
            Status = new V1NodeStatus
            {
                Allocatable = new Dictionary<string, ResourceQuantity> { [SchedExtKeys.GpuResource] = new(count.ToString(System.Globalization.CultureInfo.InvariantCulture)), ["cpu"] = new("64") },
                Capacity = new Dictionary<string, ResourceQuantity> { [SchedExtKeys.GpuResource] = new(count.ToString(System.Globalization.CultureInfo.InvariantCulture)) },
            },
        };
    }

    public static V1Pod Pod(string ns, string name, string uid, string node, string gpus, string? group = null, int? priority = null)
    {
        var annotations = new Dictionary<string, string> { [SchedExtKeys.AssignedGpus] = gpus };
        if (group is not null)
        {
            annotations[SchedExtKeys.PlacementGroup] = group;
        }

        var count = gpus.Split(',').Length;
        return new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Uid = uid, Annotations = annotations },
            Spec = new V1PodSpec
            {
                NodeName = node,
                SchedulerName = "schedext-scheduler",
                Priority = priority,
                Containers = [new V1Container { Name = "main", Image = "busybox", Resources = new V1ResourceRequirements { Limits = new Dictionary<string, ResourceQuantity> { [SchedExtKeys.GpuResource] = new(count.ToString(System.Globalization.CultureInfo.InvariantCulture)) } } }],
            },
            Status = new V1PodStatus { Phase = "Running" },
        };
    }
}
