using System.Globalization;
using k8s.Models;
using SchedExt.Topology.Annotation;
using SchedExt.Topology.Model;
using SchedExt.Topology.Requests;

namespace SchedExt.E2E;

/// <summary>Builds the Node objects of fake GPU nodes and the pods that may land on them.</summary>
/// <remarks>
/// A fake node has no kubelet: it goes NotReady about 45 s after creation and gets the not-ready/unreachable taints,
/// NoSchedule and NoExecute. Test pods tolerate those without a time limit, and also the run's own taint, which keeps
/// every other workload (and every other test's pods) off these nodes.
/// </remarks>
public static class FakeGpuNodes
{
    /// <summary>Label and taint key that ties nodes, pods and namespaces to one test.</summary>
    public const string RunKey = "schedext.io/e2e";

    public const string SchedulerName = "schedext-scheduler";

    /// <summary>A node with the given hardware, GPU allocatable and machine kind, tainted and labelled for the run.</summary>
    public static V1Node Node(string name, string runId, NodeTopology topology, MachineKind machine)
    {
        ArgumentNullException.ThrowIfNull(topology);
        var resources = Allocatable(topology.GpuCount);
        return new V1Node
        {
            Metadata = new V1ObjectMeta
            {
                Name = name,
                Labels = new Dictionary<string, string>
                {
                    ["kubernetes.io/hostname"] = name,
                    ["kubernetes.io/os"] = "linux",
                    [RunKey] = runId,
                    [SchedExtKeys.Machine] = SchedExtKeys.Format(machine),
                    [SchedExtKeys.GpuProductLabel] = ProductLabel(topology),
                },
                Annotations = new Dictionary<string, string> { [SchedExtKeys.Topology] = TopologyAnnotation.Serialize(topology) },
            },
            Spec = new V1NodeSpec { Taints = [new V1Taint { Key = RunKey, Value = runId, Effect = "NoSchedule" }] },
            Status = new V1NodeStatus
            {
                Capacity = resources,
                Allocatable = resources,
                Conditions = [new V1NodeCondition { Type = "Ready", Status = "True", Reason = "SchedExtE2E", Message = "fake node without a kubelet" }],
            },
        };
    }

    /// <summary>The node status part that the API server may drop on create; patched through the status subresource.</summary>
    public static Dictionary<string, ResourceQuantity> Allocatable(int gpus) => new()
    {
        ["cpu"] = new ResourceQuantity("64"),
        ["memory"] = new ResourceQuantity("512Gi"),
        ["pods"] = new ResourceQuantity("110"),
        ["ephemeral-storage"] = new ResourceQuantity("1Ti"),
        [SchedExtKeys.GpuResource] = new ResourceQuantity(gpus.ToString(CultureInfo.InvariantCulture)),
    };

    /// <summary>A pause pod for schedext-scheduler that asks for <paramref name="gpus"/> GPUs and may only land on this run's nodes.</summary>
    public static V1Pod Pod(string name, string runId, int gpus, IReadOnlyDictionary<string, string>? annotations = null) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = name,
            Labels = new Dictionary<string, string> { [RunKey] = runId },
            Annotations = annotations is null ? null : new Dictionary<string, string>(annotations),
        },
        Spec = new V1PodSpec
        {
            SchedulerName = SchedulerName,
            NodeSelector = new Dictionary<string, string> { [RunKey] = runId },
            Tolerations =
            [
                new V1Toleration { Key = RunKey, OperatorProperty = "Equal", Value = runId, Effect = "NoSchedule" },
                // No tolerationSeconds: the fake node never gets a kubelet, so these taints never go away.
                new V1Toleration { Key = "node.kubernetes.io/not-ready", OperatorProperty = "Exists", Effect = "NoSchedule" },
                new V1Toleration { Key = "node.kubernetes.io/not-ready", OperatorProperty = "Exists", Effect = "NoExecute" },
                new V1Toleration { Key = "node.kubernetes.io/unreachable", OperatorProperty = "Exists", Effect = "NoSchedule" },
                new V1Toleration { Key = "node.kubernetes.io/unreachable", OperatorProperty = "Exists", Effect = "NoExecute" },
            ],
            AutomountServiceAccountToken = false,
            TerminationGracePeriodSeconds = 0,
            Containers =
            [
                new V1Container
                {
                    Name = "main",
                    Image = "registry.k8s.io/pause:3.10",
                    Resources = new V1ResourceRequirements
                    {
                        Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("10m"), ["memory"] = new("16Mi") },
                        Limits = new Dictionary<string, ResourceQuantity> { [SchedExtKeys.GpuResource] = new(gpus.ToString(CultureInfo.InvariantCulture)) },
                    },
                },
            ],
        },
    };

    /// <summary>The GPU indices bind wrote on the pod (<c>schedext.io/assigned-gpus</c>, e.g. <c>0,1,2,3</c>); empty when absent.</summary>
    public static int[] AssignedGpus(V1Pod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        if (pod.Metadata.Annotations is null || !pod.Metadata.Annotations.TryGetValue(SchedExtKeys.AssignedGpus, out var value))
        {
            return [];
        }

        return [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture))];
    }

    private static string ProductLabel(NodeTopology topology)
    {
        // Label values: at most 63 of [A-Za-z0-9._-], alphanumeric at both ends (GPU Feature Discovery writes "NVIDIA-H200").
        var product = topology.Gpus.Count > 0 ? topology.Gpus[0].Product : null;
        var chars = (product ?? string.Empty).Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '-').Take(63).ToArray();
        var value = new string(chars).Trim('-', '.', '_');
        return value.Length == 0 ? "unknown" : value;
    }
}
