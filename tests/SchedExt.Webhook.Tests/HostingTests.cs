using System.Net;
using SchedExt.Topology.Requests;

namespace SchedExt.Webhook.Tests;

/// <summary>Health, readiness and metrics endpoints, and feasibility when no node shapes are known.</summary>
public sealed class HostingTests
{
    [Theory]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    public async Task Probe_PolicyAndSnapshotLoaded_Ok(string path)
    {
        using var host = WebhookHost.Default();

        using var response = await host.Client.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Metrics_AfterReviews_CountsOutcomesPatchesDenialsAndLatency()
    {
        using var host = WebhookHost.Default();
        await host.PostAsync(Reviews.Sample().ToJsonString());
        await host.PostAsync(Reviews.OptedIn((SchedExtKeys.Profile, "train-8x-h100")).ToJsonString());
        await host.PostAsync(Reviews.OptedIn((SchedExtKeys.Gpus, "16")).ToJsonString());
        await host.PostAsync("{");

        var metrics = await host.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Contains("schedext_webhook_reviews_total{outcome=\"skipped\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("schedext_webhook_reviews_total{outcome=\"mutated\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("schedext_webhook_reviews_total{outcome=\"denied\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("schedext_webhook_reviews_total{outcome=\"bad-request\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("schedext_webhook_denials_total{reason=\"infeasible\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("schedext_webhook_patch_operations_total{kind=\"toleration\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("schedext_webhook_patch_operations_total{kind=\"device-limit\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("schedext_webhook_review_duration_seconds_count 4", metrics, StringComparison.Ordinal);
        Assert.Contains("schedext_webhook_node_shapes 2", metrics, StringComparison.Ordinal);
        Assert.Contains("schedext_webhook_nodes 6", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mutate_NoNodeShapesKnown_SkipsFeasibilityAndStillPatches()
    {
        using var host = new WebhookHost(SchedExt.Testing.TestData.ReadText("webhook", "policy.yaml"));

        var review = await host.PostAsync(Reviews.OptedIn((SchedExtKeys.Gpus, "16")).ToJsonString());

        Assert.True(review.Allowed);
        Assert.NotNull(review.PatchJson);
        var metrics = await host.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Contains("schedext_webhook_feasibility_skipped_total 1", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mutate_ClusterWithoutGpuNodes_SkipsFeasibilityLikeUnknownShapes()
    {
        // A GPU pool that scales from zero (cluster-autoscaler, Karpenter) only grows for a Pending pod; denying every pod
        // while no GPU node exists would keep it at zero for ever. The same holds while a new node's device plugin registers.
        var dir = Directory.CreateTempSubdirectory("schedext-no-gpu-").FullName;
        var snapshot = Path.Combine(dir, "cluster.yaml");
        File.WriteAllText(snapshot, "apiVersion: v1\nkind: Node\nmetadata: {name: cpu-0}\nstatus: {allocatable: {cpu: \"8\"}}\n");
        try
        {
            using var host = new WebhookHost(SchedExt.Testing.TestData.ReadText("webhook", "policy.yaml"), snapshot);

            var review = await host.PostAsync(Reviews.OptedIn((SchedExtKeys.Gpus, "1")).ToJsonString());

            Assert.True(review.Allowed, review.Body);
            Assert.NotNull(review.PatchJson);
            var metrics = await host.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
            Assert.Contains("schedext_webhook_feasibility_skipped_total 1", metrics, StringComparison.Ordinal);
            using var ready = await host.Client.GetAsync(new Uri("/readyz", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("key of another certificate")]
    [InlineData("empty Secret, not issued yet")]
    public async Task Ready_CertificateFilesPresentButNotLoadable_NotReadyWithTheReason(string name)
    {
        // kube-apiserver cannot complete a handshake without a certificate: a rolling update must not take this pod as ready.
        var dir = Directory.CreateTempSubdirectory("schedext-tls-ready-").FullName;
        try
        {
            if (name.StartsWith("key", StringComparison.Ordinal))
            {
                TestCertificates.Write(dir, "CN=one");
                var other = Directory.CreateTempSubdirectory("schedext-tls-other-").FullName;
                TestCertificates.Write(other, "CN=two");
                File.Copy(Path.Combine(other, "tls.key"), Path.Combine(dir, "tls.key"), overwrite: true);
                Directory.Delete(other, recursive: true);
            }
            else
            {
                File.WriteAllText(Path.Combine(dir, "tls.crt"), string.Empty);
                File.WriteAllText(Path.Combine(dir, "tls.key"), string.Empty);
            }

            using var host = WebhookHost.Default(settings: new Dictionary<string, string>
            {
                ["SchedExt:Webhook:TlsCertFile"] = Path.Combine(dir, "tls.crt"),
                ["SchedExt:Webhook:TlsKeyFile"] = Path.Combine(dir, "tls.key"),
            });

            using var ready = await host.Client.GetAsync(new Uri("/readyz", UriKind.Relative));

            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            var body = await ready.Content.ReadAsStringAsync();
            Assert.True(body.Contains("no TLS certificate loaded from " + Path.Combine(dir, "tls.crt"), StringComparison.Ordinal), $"{name}: {body}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Mutate_ShadowModeWithProblem_CountsWouldBeDenialAsShadowWarning()
    {
        using var host = WebhookHost.Default(SchedExt.Testing.TestData.ReadText("webhook", "policy.yaml").Replace("mode: enforce", "mode: shadow", StringComparison.Ordinal));

        await host.PostAsync(Reviews.OptedIn((SchedExtKeys.Gpus, "16")).ToJsonString());

        var metrics = await host.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Contains("schedext_webhook_reviews_total{outcome=\"shadow\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("schedext_webhook_warnings_total{reason=\"infeasible\",mode=\"shadow\"} 1", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("schedext_webhook_denials_total{", metrics, StringComparison.Ordinal);
    }
}
