using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using SchedExt.Testing;
using SchedExt.Topology.Requests;
using SchedExt.Webhook.Policy;

namespace SchedExt.Webhook.Tests;

/// <summary>Warn mode leaves what the user wrote, even when invalid, and never makes the pod one the API server refuses.</summary>
public sealed class WarnModeTests : IDisposable
{
    private readonly WebhookHost _host = WebhookHost.Default();

    public WarnModeTests()
    {
        File.WriteAllText(_host.PolicyFile, TestData.ReadText("webhook", "policy.yaml").Replace("mode: enforce", "mode: warn", StringComparison.Ordinal));
        Assert.Equal(ReloadOutcome.Loaded, _host.Services.GetRequiredService<PolicyStore>().Reload());
    }

    public void Dispose() => _host.Dispose();

    [Fact]
    public async Task Mutate_InvalidLimitLeftAsWritten_RequestStaysEqualToIt()
    {
        // Profile dev-2x says 2 GPUs; the container says 0 in both limits and requests. The limit is kept (warn mode), so the
        // request must stay 0 as well: extended resources need request == limit, or the API server refuses the pod.
        var review = Reviews.OptedIn((SchedExtKeys.Profile, "dev-2x"));
        Reviews.Pod(review)["spec"]!["containers"]![0]!["resources"] = JsonNode.Parse("""{"limits":{"nvidia.com/gpu":"0"},"requests":{"nvidia.com/gpu":"0"}}""");

        var answer = await _host.PostAsync(review.ToJsonString());

        Assert.True(answer.Allowed);
        var resources = answer.Apply(Reviews.Pod(review))["spec"]!["containers"]![0]!["resources"]!;
        Assert.Equal("0", resources["limits"]!["nvidia.com/gpu"]!.GetValue<string>());
        Assert.Equal("0", resources["requests"]!["nvidia.com/gpu"]!.GetValue<string>());
    }

    [Fact]
    public async Task Mutate_UnparseableGpusAnnotation_LeftAsWritten()
    {
        var review = Reviews.OptedIn((SchedExtKeys.Profile, "dev-2x"), (SchedExtKeys.Gpus, "two"));

        var answer = await _host.PostAsync(review.ToJsonString());

        Assert.True(answer.Allowed);
        var pod = answer.Apply(Reviews.Pod(review));
        Assert.Equal("two", pod["metadata"]!["annotations"]![SchedExtKeys.Gpus]!.GetValue<string>());
        Assert.Equal("2", pod["spec"]!["containers"]![0]!["resources"]!["limits"]!["nvidia.com/gpu"]!.GetValue<string>());
        Assert.Contains("'two' is not a GPU count", answer.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mutate_UnparseableGpusAnnotationSecondPass_KeptAndNothingPatched()
    {
        // The first pass adds the profile's limit of 2 and keeps "two"; the second, seeing that limit, used to take it as
        // the pod's count and replace "two" with "2".
        var review = Reviews.OptedIn((SchedExtKeys.Profile, "dev-2x"), (SchedExtKeys.Gpus, "two"));
        var first = await _host.PostAsync(review.ToJsonString());

        var second = await _host.PostAsync(Reviews.WithPod(review, first.Apply(Reviews.Pod(review))).ToJsonString());

        Assert.True(second.Allowed);
        Assert.True(second.Patch.Count == 0, "second pass patch: " + second.PatchJson);
        Assert.Contains("'two' is not a GPU count", second.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mutate_UnparseableGpusAnnotationBesideALimit_KeptAndReported()
    {
        var review = Reviews.OptedIn((SchedExtKeys.Gpus, "two"));
        Reviews.Pod(review)["spec"]!["containers"]![0]!["resources"] = JsonNode.Parse("""{"limits":{"nvidia.com/gpu":"2"}}""");

        var answer = await _host.PostAsync(review.ToJsonString());

        Assert.True(answer.Allowed);
        Assert.Equal("two", answer.Apply(Reviews.Pod(review))["metadata"]!["annotations"]![SchedExtKeys.Gpus]!.GetValue<string>());
        Assert.Contains("'two' is not a GPU count", answer.Body, StringComparison.Ordinal);
    }
}
