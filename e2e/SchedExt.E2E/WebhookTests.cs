using System.Globalization;
using k8s;
using k8s.Autorest;
using k8s.Models;
using SchedExt.Topology.Requests;
using SchedExt.Topology.Shapes;
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
        var profile = policy is null ? null : PlaceableProfile(policy);
        if (profile is null)
        {
            E2ECluster.SkipUnlessRequired("the deployed webhook policy has no profile that an HGX H200 node can hold");
        }

        var (profileName, profileNode) = profile!.Value;

        // In enforce mode the webhook refuses pods that no node can ever hold, so give it one that can.
        var machine = RepoFiles.ScalarAt(profileNode, "machine") == "vm" ? MachineKind.Vm : MachineKind.BareMetal;
        await scope.AddNodeAsync("h200", ReferenceTopologies.HgxH200, machine);

        // A bare pod that only names the profile; dry run: admission (and so the webhook) runs, nothing is stored.
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "profiled", Annotations = new Dictionary<string, string> { [SchedExtKeys.Profile] = profileName } },
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "main", Image = "registry.k8s.io/pause:3.10" }] },
        };
        var mutated = await CreateDryRunAsync(scope, pod);

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

    // The first profile an HGX H200 (8 NVLink GPUs, a near NIC each, 140 GiB) holds: no product glob other than H200's.
    private static (string Name, YamlNode Profile)? PlaceableProfile(YamlMappingNode policy)
    {
        if (RepoFiles.At(policy, "profiles") is not YamlMappingNode profiles)
        {
            return null;
        }

        foreach (var (name, profile) in profiles.Children)
        {
            var gpus = int.TryParse(RepoFiles.ScalarAt(profile, "gpus"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
            var product = RepoFiles.ScalarAt(profile, "gpuProduct");
            if (gpus is >= 1 and <= 8 && (product is null || product.Contains("H200", StringComparison.Ordinal)))
            {
                return (((YamlScalarNode)name).Value!, profile);
            }
        }

        return null;
    }

    // The webhook learns about the new node through its watch; until then it may call the request infeasible.
    private static async Task<V1Pod> CreateDryRunAsync(TestScope scope, V1Pod pod)
    {
        V1Pod? created = null;
        string? lastError = null;
        var done = await TestScope.EventuallyAsync(
            async () =>
            {
                try
                {
                    created = await scope.Client.CoreV1.CreateNamespacedPodAsync(pod, scope.Namespace, dryRun: "All");
                    return true;
                }
                catch (HttpOperationException e)
                {
                    lastError = $"{(int)e.Response.StatusCode}: {e.Response.Content}";
                    return false;
                }
            },
            TimeSpan.FromSeconds(30));
        Assert.True(done, "the webhook did not admit the profiled pod: " + lastError);
        return created!;
    }
}
