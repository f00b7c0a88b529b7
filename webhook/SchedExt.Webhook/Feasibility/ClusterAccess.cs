using k8s;

namespace SchedExt.Webhook.Feasibility;

/// <summary>Whether the Kubernetes API can be reached: in-cluster config, or a kubeconfig file (KUBECONFIG or ~/.kube/config).</summary>
/// <param name="Available">Decided once at start; tests substitute their own.</param>
internal sealed record ClusterAccess(bool Available)
{
    public static ClusterAccess Detect() => new(
        KubernetesClientConfiguration.IsInCluster()
        || File.Exists(Environment.GetEnvironmentVariable("KUBECONFIG") ?? KubernetesClientConfiguration.KubeConfigDefaultLocation));
}
