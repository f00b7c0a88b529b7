using System.Text.Json.Nodes;
using SchedExt.Topology.Requests;

namespace SchedExt.Webhook.Tests;

/// <summary>DRA mode: a pod that already has the claim keeps it, unless the count is enforced; then its template follows the count.</summary>
public sealed class DraClaimTests
{
    [Fact]
    public async Task Mutate_EnforcedCountAndClaimFromAnotherTemplate_TemplateReplaced()
    {
        // The namespace enforces 2 GPUs; the pod's own claim asks for schedext-gpus-8. Keeping it changed only the
        // annotation: the pod was annotated and checked as 2 while its claim allocated 8.
        using var host = WebhookHost.Default(WebhookHost.Policy(lockedGpus: 2, dra: true));
        var review = WithClaim("locked", new JsonObject { ["name"] = "gpus", ["resourceClaimTemplateName"] = "schedext-gpus-8" });

        var answer = await host.PostAsync(review.ToJsonString());

        Assert.True(answer.Allowed, answer.Body);
        var pod = answer.Apply(Reviews.Pod(review));
        Assert.Equal("schedext-gpus-2", ClaimTemplate(pod));
        Assert.Equal("2", GpusAnnotation(pod));
        var again = await host.PostAsync(Reviews.WithPod(review, pod).ToJsonString());
        Assert.True(again.Patch.Count == 0, "second pass patch: " + again.PatchJson);
    }

    [Fact]
    public async Task Mutate_EnforcedCountAndClaimNamingAResourceClaim_DeniedAsUnenforceable()
    {
        using var host = WebhookHost.Default(WebhookHost.Policy(lockedGpus: 2, dra: true));
        var review = WithClaim("locked", new JsonObject { ["name"] = "gpus", ["resourceClaimName"] = "shared-gpus" });

        var answer = await host.PostAsync(review.ToJsonString());

        Assert.False(answer.Allowed);
        Assert.Contains("names the ResourceClaim 'shared-gpus', which the webhook cannot change", answer.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mutate_EnforcedCountClaimNamingAResourceClaimAndAnInvalidTemplate_ReportedAsUnenforceableOnly()
    {
        // The template would not be written (the claim names a ResourceClaim), so its name for this pod is not a problem.
        var policy = WithClaimTemplate(WebhookHost.Policy(lockedGpus: 2, dra: true), "gpus-{pod.label:team}-{gpus}");
        using var host = WebhookHost.Default(policy);
        var review = WithClaim("locked", new JsonObject { ["name"] = "gpus", ["resourceClaimName"] = "shared-gpus" });
        Reviews.Pod(review)["metadata"]!["labels"] = new JsonObject { ["team"] = "ML_Ops" };

        var answer = await host.PostAsync(review.ToJsonString());

        Assert.False(answer.Allowed);
        Assert.Contains("names the ResourceClaim 'shared-gpus'", answer.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("not a valid ResourceClaimTemplate name", answer.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mutate_CountNotEnforcedAndClaimFromAnotherTemplate_ClaimKept()
    {
        using var host = WebhookHost.Default(WebhookHost.Policy(dra: true));
        var review = WithClaim("default", new JsonObject { ["name"] = "gpus", ["resourceClaimTemplateName"] = "my-gpus" });

        var answer = await host.PostAsync(review.ToJsonString());

        Assert.True(answer.Allowed, answer.Body);
        Assert.Equal("my-gpus", ClaimTemplate(answer.Apply(Reviews.Pod(review))));
    }

    [Fact]
    public async Task Mutate_ClaimFromThePolicysTemplate_ItsCountIsThePods()
    {
        // The pod's own claim asks for schedext-gpus-4 while its annotation says 2: like a container's limit, the device
        // request is the pod's count. Before, the annotation and the feasibility check kept saying 2.
        using var host = WebhookHost.Default(WebhookHost.Policy(dra: true));
        var review = WithClaim("default", new JsonObject { ["name"] = "gpus", ["resourceClaimTemplateName"] = "schedext-gpus-4" });

        var answer = await host.PostAsync(review.ToJsonString());

        Assert.True(answer.Allowed, answer.Body);
        var pod = answer.Apply(Reviews.Pod(review));
        Assert.Equal("4", GpusAnnotation(pod));
        Assert.Equal("schedext-gpus-4", ClaimTemplate(pod));
        var again = await host.PostAsync(Reviews.WithPod(review, pod).ToJsonString());
        Assert.True(again.Patch.Count == 0, "second pass patch: " + again.PatchJson);
    }

    [Fact]
    public async Task Mutate_ClaimFromThePolicysTemplateAndAProfileCount_ClaimWins()
    {
        // The profile says 2 (dev-2x); the pod's own claim asks for 8.
        using var host = WebhookHost.Default(WebhookHost.Policy(dra: true));
        var review = WithClaim("default", new JsonObject { ["name"] = "gpus", ["resourceClaimTemplateName"] = "schedext-gpus-8" }, (SchedExtKeys.Profile, "dev-2x"));

        var answer = await host.PostAsync(review.ToJsonString());

        Assert.True(answer.Allowed, answer.Body);
        Assert.Equal("8", GpusAnnotation(answer.Apply(Reviews.Pod(review))));
    }

    [Fact]
    public async Task Mutate_ClaimTemplateNamesThePlacementGroup_CountReadWithThePodsGroup()
    {
        // gpus-{gpus}-{placementGroup} with the pod's group "grp": its claim gpus-8-grp is one the webhook itself writes.
        // Before: {placementGroup} was not yet resolved when the count was read, so the claim was not recognised.
        var policy = WithClaimTemplate(WebhookHost.Policy(dra: true), "gpus-{gpus}-{placementGroup}");
        using var host = WebhookHost.Default(policy);
        var review = WithClaim("default", new JsonObject { ["name"] = "gpus", ["resourceClaimTemplateName"] = "gpus-8-grp" }, (SchedExtKeys.Gpus, "2"), (SchedExtKeys.PlacementGroup, "grp"));

        var answer = await host.PostAsync(review.ToJsonString());

        Assert.True(answer.Allowed, answer.Body);
        var pod = answer.Apply(Reviews.Pod(review));
        Assert.Equal("8", GpusAnnotation(pod));
        var again = await host.PostAsync(Reviews.WithPod(review, pod).ToJsonString());
        Assert.True(again.Patch.Count == 0, "second pass patch: " + again.PatchJson);
    }

    [Theory]
    [InlineData("enforce")]
    [InlineData("warn")]
    public async Task Mutate_TemplateRendersAnInvalidName_ReportedAndNoClaimWritten(string mode)
    {
        // The policy's literal parts are valid; the pod's label makes the name invalid (upper case, '_'). Written, the
        // API server would refuse the pod over a field its author never wrote.
        var policy = WithClaimTemplate(WebhookHost.Policy(mode, dra: true), "gpus-{pod.label:team}-{gpus}");
        Assert.Contains("claimTemplate", policy, StringComparison.Ordinal);
        using var host = WebhookHost.Default(policy);
        var review = Reviews.OptedIn((SchedExtKeys.Gpus, "2"));
        Reviews.Pod(review)["metadata"]!["labels"] = new JsonObject { ["team"] = "ML_Ops" };

        var answer = await host.PostAsync(review.ToJsonString());

        var expected = "devices.dra.claimTemplate 'gpus-{pod.label:team}-{gpus}' makes 'gpus-ML_Ops-2' for this pod, which is not a valid ResourceClaimTemplate name";
        if (mode == "enforce")
        {
            Assert.False(answer.Allowed);
            Assert.Contains(expected, answer.Body, StringComparison.Ordinal);
        }
        else
        {
            Assert.True(answer.Allowed, answer.Body);
            Assert.Contains(expected, answer.Response["warnings"]![0]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.DoesNotContain("resourceClaims", answer.PatchJson ?? string.Empty, StringComparison.Ordinal);
            Assert.DoesNotContain("claims", answer.PatchJson ?? string.Empty, StringComparison.Ordinal);
        }

        // The same policy with a valid label writes the claim.
        Reviews.Pod(review)["metadata"]!["labels"]!["team"] = "ml-ops";
        var valid = await host.PostAsync(review.ToJsonString());
        Assert.True(valid.Allowed, valid.Body);
        Assert.Equal("gpus-ml-ops-2", ClaimTemplate(valid.Apply(Reviews.Pod(review))));
    }

    /// <summary>The test policy <paramref name="policy"/> (in DRA mode) with <c>devices.dra.claimTemplate</c> set to <paramref name="template"/>.</summary>
    private static string WithClaimTemplate(string policy, string template) =>
        policy.Replace("mode: dra\n", $"mode: dra\n  dra: {{claimTemplate: \"{template}\"}}\n", StringComparison.Ordinal);

    private static string ClaimTemplate(JsonNode pod) => pod["spec"]!["resourceClaims"]![0]!["resourceClaimTemplateName"]!.GetValue<string>();

    private static string GpusAnnotation(JsonNode pod) => pod["metadata"]!["annotations"]![SchedExtKeys.Gpus]!.GetValue<string>();

    /// <summary>A pod opted in with schedext.io/gpus "2" (or <paramref name="annotations"/>), with <paramref name="claim"/> and its first container referring to it.</summary>
    private static JsonObject WithClaim(string ns, JsonObject claim, params (string Key, string Value)[] annotations)
    {
        var review = Reviews.OptedIn(annotations.Length > 0 ? annotations : [(SchedExtKeys.Gpus, "2")]);
        review["request"]!["namespace"] = ns;
        var pod = Reviews.Pod(review);
        pod["metadata"]!["namespace"] = ns;
        pod["spec"]!["resourceClaims"] = new JsonArray(claim);
        pod["spec"]!["containers"]![0]!["resources"] = JsonNode.Parse("""{"claims":[{"name":"gpus"}]}""");
        return review;
    }
}
