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
        Assert.Equal("schedext-gpus-2", pod["spec"]!["resourceClaims"]![0]!["resourceClaimTemplateName"]!.GetValue<string>());
        Assert.Equal("2", pod["metadata"]!["annotations"]![SchedExtKeys.Gpus]!.GetValue<string>());
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
    public async Task Mutate_CountNotEnforcedAndClaimFromAnotherTemplate_ClaimKept()
    {
        using var host = WebhookHost.Default(WebhookHost.Policy(dra: true));
        var review = WithClaim("default", new JsonObject { ["name"] = "gpus", ["resourceClaimTemplateName"] = "my-gpus" });

        var answer = await host.PostAsync(review.ToJsonString());

        Assert.True(answer.Allowed, answer.Body);
        Assert.Equal("my-gpus", answer.Apply(Reviews.Pod(review))["spec"]!["resourceClaims"]![0]!["resourceClaimTemplateName"]!.GetValue<string>());
    }

    /// <summary>A pod opted in with schedext.io/gpus "2", with <paramref name="claim"/> and its first container referring to it.</summary>
    private static JsonObject WithClaim(string ns, JsonObject claim)
    {
        var review = Reviews.OptedIn((SchedExtKeys.Gpus, "2"));
        review["request"]!["namespace"] = ns;
        var pod = Reviews.Pod(review);
        pod["metadata"]!["namespace"] = ns;
        pod["spec"]!["resourceClaims"] = new JsonArray(claim);
        pod["spec"]!["containers"]![0]!["resources"] = JsonNode.Parse("""{"claims":[{"name":"gpus"}]}""");
        return review;
    }
}
