using System.Globalization;
using k8s;
using k8s.Models;
using SchedExt.Topology.Requests;
using YamlDotNet.RepresentationModel;

namespace SchedExt.E2E;

/// <summary>The deployed webhook mutates a profile-annotated pod as the deployed policy (manifests/base/webhook/policy.yaml) says.</summary>
[Collection(ClusterFixtureDefinition.Name)]
public sealed class WebhookTests(E2ECluster cluster)
{
    [SkippableFact]
    public async Task ProfileAnnotation_PodCreate_IsMutatedAsPolicySays()
    {
        await using var scope = await TestScope.BeginAsync(cluster, "hook");
        var documents = RepoFiles.ReadYaml("manifests", "base", "webhook", "policy.yaml");
        var policy = documents.Count > 0 ? documents[0] : null;
        var profiles = policy is null ? null : RepoFiles.At(policy, "profiles") as YamlMappingNode;
        Skip.If(profiles is null || profiles.Children.Count == 0, "the deployed webhook policy defines no profiles");
        var (nameNode, profileNode) = profiles!.Children.First();
        var profileName = ((YamlScalarNode)nameNode).Value!;

        // A bare pod that only names the profile; dry run: admission (and so the webhook) runs, nothing is stored.
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "profiled", Annotations = new Dictionary<string, string> { [SchedExtKeys.Profile] = profileName } },
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "main", Image = "registry.k8s.io/pause:3.10" }] },
        };
        var mutated = await scope.Client.CoreV1.CreateNamespacedPodAsync(pod, scope.Namespace, dryRun: "All");

        Assert.Equal(RepoFiles.ScalarAt(policy!, "schedulerName") ?? FakeGpuNodes.SchedulerName, mutated.Spec.SchedulerName);
        var annotations = mutated.Metadata.Annotations ?? new Dictionary<string, string>();
        foreach (var (key, annotation) in new[] { ("interconnect", SchedExtKeys.Interconnect), ("rdma", SchedExtKeys.Rdma), ("machine", SchedExtKeys.Machine) })
        {
            if (RepoFiles.ScalarAt(profileNode, key) is { } expected)
            {
                Assert.True(annotations.TryGetValue(annotation, out var actual), $"profile {profileName} sets {key} but the pod has no {annotation}");
                Assert.Equal(expected, actual);
            }
        }

        var devicesMode = RepoFiles.ScalarAt(policy!, "devices", "mode");
        if (RepoFiles.ScalarAt(profileNode, "gpus") is { } gpus && devicesMode is null or "extended-resource")
        {
            var resource = RepoFiles.ScalarAt(policy!, "devices", "resourceName") ?? SchedExtKeys.GpuResource;
            var limits = mutated.Spec.Containers[0].Resources?.Limits;
            Assert.True(limits is not null && limits.ContainsKey(resource), $"profile {profileName} asks for {gpus} GPUs but the container has no {resource} limit");
            Assert.Equal(int.Parse(gpus, CultureInfo.InvariantCulture), int.Parse(limits[resource].ToString(), CultureInfo.InvariantCulture));
        }
    }
}
