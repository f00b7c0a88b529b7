using SchedExt.Topology.Requests;
using YamlDotNet.RepresentationModel;

namespace SchedExt.E2E;

/// <summary>Cluster-free checks that the manifests agree with the code's contract (run by every <c>make test</c>).</summary>
public sealed class ManifestConsistencyTests
{
    [Fact]
    public void WebhookPolicyConfigMap_MatchesWebhookExample()
    {
        var example = RepoFiles.PathOf("webhook", "SchedExt.Webhook", "policy.example.yaml");
        var deployed = RepoFiles.PathOf("manifests", "base", "webhook", "policy.yaml");
        Assert.True(File.Exists(example), "webhook/SchedExt.Webhook/policy.example.yaml is missing: if it moved, point this test and `make manifests` at the new path");
        Assert.True(File.ReadAllText(example) == File.ReadAllText(deployed), "manifests/base/webhook/policy.yaml differs from the webhook's policy.example.yaml: run `make manifests`");
    }

    [Fact]
    public void SchedulerConfig_ExtenderStanza_MatchesContract()
    {
        var config = RepoFiles.ReadYaml("manifests", "base", "scheduler", "scheduler-config.yaml").Single();
        Assert.Equal("kubescheduler.config.k8s.io/v1", RepoFiles.ScalarAt(config, "apiVersion"));
        Assert.Equal(FakeGpuNodes.SchedulerName, RepoFiles.ScalarAt(config, "profiles", 0, "schedulerName"));
        Assert.Equal("true", RepoFiles.ScalarAt(config, "leaderElection", "leaderElect"));
        var extender = (YamlMappingNode)RepoFiles.At(config, "extenders", 0)!;
        var expected = new Dictionary<string, string>
        {
            ["urlPrefix"] = "http://127.0.0.1:8080",
            ["filterVerb"] = "filter",
            ["prioritizeVerb"] = "prioritize",
            ["bindVerb"] = "bind",
            ["preemptVerb"] = "preempt",
            ["weight"] = "5",
            ["httpTimeout"] = "5s",
            ["enableHTTPS"] = "false",
            ["nodeCacheCapable"] = "true",
            ["ignorable"] = "false",
        };
        Assert.All(expected, kv => Assert.Equal(kv.Value, RepoFiles.ScalarAt(extender, kv.Key)));
        Assert.Equal(SchedExtKeys.GpuResource, RepoFiles.ScalarAt(extender, "managedResources", 0, "name"));
        Assert.Equal("false", RepoFiles.ScalarAt(extender, "managedResources", 0, "ignoredByScheduler"));
    }

    [Fact]
    public void MutatingWebhook_Scope_OnlyOptedInPodsOutsideSystemNamespaces()
    {
        var config = RepoFiles.ReadYaml("manifests", "base", "webhook", "mutatingwebhookconfiguration.yaml").Single();
        var hook = RepoFiles.At(config, "webhooks", 0)!;
        Assert.Equal("None", RepoFiles.ScalarAt(hook, "sideEffects"));
        Assert.InRange(int.Parse(RepoFiles.ScalarAt(hook, "timeoutSeconds")!, System.Globalization.CultureInfo.InvariantCulture), 1, 5);
        var condition = RepoFiles.ScalarAt(hook, "matchConditions", 0, "expression")!;
        Assert.Contains($"'{SchedExtKeys.Profile}' in object.metadata.annotations", condition, StringComparison.Ordinal);
        Assert.Contains($"'{SchedExtKeys.Gpus}' in object.metadata.annotations", condition, StringComparison.Ordinal);
        var excluded = ((YamlSequenceNode)RepoFiles.At(hook, "namespaceSelector", "matchExpressions", 0, "values")!).Children.Select(n => ((YamlScalarNode)n).Value).ToList();
        Assert.Equal("NotIn", RepoFiles.ScalarAt(hook, "namespaceSelector", "matchExpressions", 0, "operator"));
        Assert.Contains("kube-system", excluded);
        Assert.Contains("schedext-system", excluded);
    }
}
