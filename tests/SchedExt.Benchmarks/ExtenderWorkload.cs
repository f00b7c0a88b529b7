using System.Globalization;
using System.Text;
using k8s;
using k8s.Models;
using SchedExt.Extender.State;
using SchedExt.Testing;
using SchedExt.Topology.Annotation;
using SchedExt.Topology.Requests;

namespace SchedExt.Benchmarks;

/// <summary>What the HTTP benchmarks send and serve: the fleet as a snapshot file, and kube-scheduler's ExtenderArgs bodies.</summary>
internal static class ExtenderWorkload
{
    /// <summary>Nodes in the served cluster; the 500-candidate requests name the first 500 of them.</summary>
    public const int ClusterNodes = 5_000;

    public static IReadOnlyList<int> CandidateCounts { get; } = [500, 5_000];

    /// <summary>
    /// Writes (once; later runs reuse the file) the fleet of <see cref="ClusterNodes"/> nodes as a multi-document YAML
    /// snapshot: one Node per fleet node and one bound Pod holding each node's busy GPUs.
    /// </summary>
    public static string SnapshotFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"schedext-bench-cluster-{ClusterNodes}-{BenchCluster.Seed}-v1.yaml");
        if (File.Exists(path))
        {
            return path;
        }

        var annotations = new Dictionary<object, string>(ReferenceEqualityComparer.Instance);
        var text = new StringBuilder();
        foreach (var node in BenchCluster.Generate(ClusterNodes))
        {
            if (!annotations.TryGetValue(node.Topology, out var annotation))
            {
                annotation = TopologyAnnotation.Serialize(node.Topology);
                annotations[node.Topology] = annotation;
            }

            var labels = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["kubernetes.io/hostname"] = node.Name,
                [SchedExtKeys.Machine] = SchedExtKeys.Format(node.Machine),
                ["schedext.io/rack"] = node.Rack,
                ["schedext.io/block"] = node.Block,
            };
            Append(text, KubeObjects.Node(node.Name, node.Topology.GpuCount, annotation, labels));
            if (node.UsedGpus != 0)
            {
                Append(text, KubeObjects.Pod("train", "holder-" + node.Name, node.Name, AssignedGpus.Format(node.UsedGpus)));
            }
        }

        var temporary = path + "." + Environment.ProcessId + ".tmp";
        File.WriteAllText(temporary, text.ToString());
        File.Move(temporary, path, overwrite: true);
        return path;
    }

    /// <summary>The candidate names of a request: the first <paramref name="count"/> nodes of the fleet.</summary>
    public static IReadOnlyList<string> Candidates(int count) => BenchCluster.Generate(count).Select(n => n.Name).ToList();

    /// <summary>
    /// An ExtenderArgs body in <c>nodeCacheCapable</c> mode, as kube-scheduler sends it: the whole pending Pod (a
    /// 4-GPU NVLink training pod with the usual metadata noise), <c>Nodes: null</c> and the candidate names.
    /// </summary>
    public static byte[] ArgsBody(int candidates)
    {
        var json = new StringBuilder();
        json.Append("{\"Pod\":").Append(KubernetesJson.Serialize(PendingPod())).Append(",\"Nodes\":null,\"NodeNames\":[");
        var names = Candidates(candidates);
        for (var i = 0; i < names.Count; i++)
        {
            json.Append(i == 0 ? "\"" : ",\"").Append(names[i]).Append('"');
        }

        json.Append("]}");
        return Encoding.UTF8.GetBytes(json.ToString());
    }

    private static void Append(StringBuilder text, object item) =>
        text.Append("---\n").Append(KubernetesYaml.Serialize(item).TrimEnd()).Append('\n');

    private static V1Pod PendingPod()
    {
        var gpus = new ResourceQuantity("4");
        return new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new V1ObjectMeta
            {
                Name = "llama-finetune-7d9f8-0",
                GenerateName = "llama-finetune-7d9f8-",
                NamespaceProperty = "ml-training",
                Uid = "0c3e2f7a-8a4b-4f0e-9d6c-3b1a2e5f7c90",
                ResourceVersion = "48213377",
                CreationTimestamp = new DateTime(2026, 11, 29, 9, 0, 0, DateTimeKind.Utc),
                Labels = new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["app"] = "llama-finetune",
                    ["batch.kubernetes.io/job-name"] = "llama-finetune-7d9f8",
                    ["batch.kubernetes.io/controller-uid"] = "5b0f4c1e-2d8a-4e6b-9c3f-7a1d2e4b6c8d",
                    ["team"] = "foundation-models",
                },
                Annotations = new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    [SchedExtKeys.Interconnect] = "nvlink",
                    [SchedExtKeys.PlacementGroup] = "llama-finetune-7d9f8",
                    ["kubectl.kubernetes.io/last-applied-configuration"] = new string('x', 900),
                    ["prometheus.io/scrape"] = "true",
                },
                OwnerReferences = [new V1OwnerReference { ApiVersion = "batch/v1", Kind = "Job", Name = "llama-finetune-7d9f8", Uid = "5b0f4c1e-2d8a-4e6b-9c3f-7a1d2e4b6c8d", BlockOwnerDeletion = true, Controller = true }],
            },
            Spec = new V1PodSpec
            {
                SchedulerName = "schedext-scheduler",
                RestartPolicy = "Never",
                Containers =
                [
                    new V1Container
                    {
                        Name = "trainer",
                        Image = "nvcr.io/nvidia/pytorch:25.01-py3",
                        Command = ["torchrun", "--nproc-per-node=4", "train.py", "--config", "/etc/train/config.yaml"],
                        Env = Enumerable.Range(0, 6).Select(i => new V1EnvVar { Name = "ENV_" + i.ToString(CultureInfo.InvariantCulture), Value = "value-" + i.ToString(CultureInfo.InvariantCulture) }).ToList(),
                        Resources = new V1ResourceRequirements
                        {
                            Limits = new Dictionary<string, ResourceQuantity>(StringComparer.Ordinal) { ["cpu"] = new("32"), ["memory"] = new("256Gi"), [SchedExtKeys.GpuResource] = gpus },
                            Requests = new Dictionary<string, ResourceQuantity>(StringComparer.Ordinal) { ["cpu"] = new("32"), ["memory"] = new("256Gi"), [SchedExtKeys.GpuResource] = gpus },
                        },
                        VolumeMounts = [new V1VolumeMount { MountPath = "/etc/train", Name = "config" }, new V1VolumeMount { MountPath = "/dev/shm", Name = "shm" }],
                    },
                ],
                Volumes =
                [
                    new V1Volume { Name = "config", ConfigMap = new V1ConfigMapVolumeSource { Name = "llama-finetune-config" } },
                    new V1Volume { Name = "shm", EmptyDir = new V1EmptyDirVolumeSource { Medium = "Memory" } },
                ],
                Tolerations = [new V1Toleration { Key = SchedExtKeys.GpuResource, OperatorProperty = "Exists", Effect = "NoSchedule" }],
            },
            Status = new V1PodStatus { Phase = "Pending", QosClass = "Guaranteed" },
        };
    }
}
