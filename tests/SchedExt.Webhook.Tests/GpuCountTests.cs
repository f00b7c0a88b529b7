using System.Text.Json.Nodes;
using SchedExt.Topology.Requests;

namespace SchedExt.Webhook.Tests;

/// <summary>
/// The pod's GPU count as the extender counts it — app containers plus sidecars, or the largest init container — is what the webhook
/// annotates, checks for feasibility and leaves in the device request, whichever containers hold the GPUs.
/// </summary>
public sealed class GpuCountTests
{
    [Fact]
    public async Task Mutate_TwoContainersHoldGpus_AnnotatesTheirSumAndLeavesBoth()
    {
        using var host = WebhookHost.Default();
        var review = WithContainers(Reviews.OptedIn((SchedExtKeys.Gpus, "2")), [("main", "2"), ("sidecar", "4")]);

        var answer = await host.PostAsync(review.ToJsonString());

        Assert.True(answer.Allowed, answer.Body);
        var pod = answer.Apply(Reviews.Pod(review));
        Assert.Equal("6", pod["metadata"]!["annotations"]![SchedExtKeys.Gpus]!.GetValue<string>());
        Assert.Equal("2,4", Limits(pod));
        Assert.DoesNotContain(answer.Patch, op => op!["path"]!.GetValue<string>().StartsWith("/spec/containers/", StringComparison.Ordinal));
        await AssertSecondPassChangesNothing(host, review, pod);
    }

    [Fact]
    public async Task Mutate_TwoContainersExceedEveryNode_DeniedForTheirSum()
    {
        // 4 + 8 = 12 GPUs on one pod; the largest node has 8. Counting the first container alone admitted it as 4.
        using var host = WebhookHost.Default();
        var review = WithContainers(Reviews.OptedIn((SchedExtKeys.Gpus, "4")), [("main", "4"), ("sidecar", "8")]);

        var answer = await host.PostAsync(review.ToJsonString());

        Assert.False(answer.Allowed);
        Assert.Contains("no node can ever run 12 GPU(s)", answer.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mutate_InitContainerHoldsMoreThanProfile_CountIsTheInitContainersAndNoLimitAdded()
    {
        // The init container's 8 GPUs are the pod's explicit request: max(sum of app containers 0, init 8) = 8. Adding the
        // profile's 1 GPU to the app container would leave the pod at 8 while annotated and checked as 1.
        using var host = WebhookHost.Default();
        var review = Reviews.OptedIn((SchedExtKeys.Profile, "infer-1x"));
        AddInitContainer(review, "warmup", "8");

        var answer = await host.PostAsync(review.ToJsonString());

        Assert.True(answer.Allowed, answer.Body);
        var pod = answer.Apply(Reviews.Pod(review));
        Assert.Equal("8", pod["metadata"]!["annotations"]![SchedExtKeys.Gpus]!.GetValue<string>());
        Assert.Equal("-", Limits(pod));
        await AssertSecondPassChangesNothing(host, review, pod);
    }

    [Fact]
    public async Task Mutate_SidecarInitContainerHoldsGpus_CountsBesideTheAppContainer()
    {
        // A sidecar (restartPolicy: Always) keeps running beside the app container: 2 + 1 GPUs, not max(2, 1).
        using var host = WebhookHost.Default();
        var review = WithContainers(Reviews.OptedIn((SchedExtKeys.Gpus, "2")), [("main", "2")]);
        AddInitContainer(review, "proxy", "1");
        Reviews.Pod(review)["spec"]!["initContainers"]![0]!["restartPolicy"] = "Always";

        var answer = await host.PostAsync(review.ToJsonString());

        Assert.True(answer.Allowed, answer.Body);
        var pod = answer.Apply(Reviews.Pod(review));
        Assert.Equal("3", pod["metadata"]!["annotations"]![SchedExtKeys.Gpus]!.GetValue<string>());
        await AssertSecondPassChangesNothing(host, review, pod);
    }

    [Fact]
    public async Task Mutate_InitContainerSmallerThanAppContainers_CountIsTheAppSum()
    {
        using var host = WebhookHost.Default();
        var review = WithContainers(Reviews.OptedIn((SchedExtKeys.Gpus, "1")), [("main", "2"), ("sidecar", "2")]);
        AddInitContainer(review, "warmup", "3");

        var answer = await host.PostAsync(review.ToJsonString());

        Assert.True(answer.Allowed, answer.Body);
        Assert.Equal("4", answer.Apply(Reviews.Pod(review))["metadata"]!["annotations"]![SchedExtKeys.Gpus]!.GetValue<string>());
    }

    [Fact]
    public async Task Mutate_EnforcedGpusAndSeveralContainersHoldingOthers_DeniedNamingEachContainer()
    {
        // The namespace enforces 1 GPU; the pod asks for 1 + 4. Rewriting the first container only (as before) admitted 5.
        using var host = Host(enforceGpus: 1);
        var review = InLocked(WithContainers(Reviews.OptedIn((SchedExtKeys.Gpus, "1")), [("main", "1"), ("sidecar", "4")]));

        var answer = await host.PostAsync(review.ToJsonString());

        Assert.False(answer.Allowed);
        Assert.Contains("schedext.io/gpus is enforced at 1 but the pod's containers ask for 5 GPU(s) (main: 1, sidecar: 4)", answer.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mutate_EnforcedGpusAndSeveralContainersInWarnMode_WarnsAndPatchesNoContainer()
    {
        // Warn mode admits the pod as it is: annotated with what it really asks for, and no container rewritten.
        using var host = Host(enforceGpus: 1, mode: "warn");
        var review = InLocked(WithContainers(Reviews.OptedIn((SchedExtKeys.Gpus, "1")), [("main", "1"), ("sidecar", "4")]));

        var answer = await host.PostAsync(review.ToJsonString());

        Assert.True(answer.Allowed);
        Assert.Contains("schedext.io/gpus is enforced at 1 but the pod's containers ask for 5 GPU(s)", answer.Body, StringComparison.Ordinal);
        var pod = answer.Apply(Reviews.Pod(review));
        Assert.Equal("5", pod["metadata"]!["annotations"]![SchedExtKeys.Gpus]!.GetValue<string>());
        Assert.Equal("1,4", Limits(pod));
        await AssertSecondPassChangesNothing(host, review, pod);
    }

    [Fact]
    public async Task Mutate_EnforcedGpusAndSeveralContainersAddingUpToIt_Admitted()
    {
        using var host = Host(enforceGpus: 2);
        var review = InLocked(WithContainers(Reviews.OptedIn((SchedExtKeys.Gpus, "2")), [("main", "1"), ("sidecar", "1")]));

        var answer = await host.PostAsync(review.ToJsonString());

        Assert.True(answer.Allowed, answer.Body);
        Assert.Equal("1,1", Limits(answer.Apply(Reviews.Pod(review))));
    }

    [Fact]
    public async Task Mutate_EnforcedGpusAndOneContainerHolding_ThatContainerRewritten()
    {
        using var host = Host(enforceGpus: 1);
        var review = InLocked(WithContainers(Reviews.OptedIn((SchedExtKeys.Gpus, "4")), [("main", null), ("sidecar", "4")]));

        var answer = await host.PostAsync(review.ToJsonString());

        Assert.True(answer.Allowed, answer.Body);
        var pod = answer.Apply(Reviews.Pod(review));
        Assert.Equal("-,1", Limits(pod));
        Assert.Equal("1", pod["spec"]!["containers"]![1]!["resources"]!["requests"]!["nvidia.com/gpu"]!.GetValue<string>());
        Assert.Equal("1", pod["metadata"]!["annotations"]![SchedExtKeys.Gpus]!.GetValue<string>());
    }

    [Fact]
    public async Task Mutate_ContainerWithRequestOnly_IsTheHolderAndGetsAnEqualLimit()
    {
        // The extender counts a request without a limit; giving another container the profile's limit would double the pod.
        using var host = WebhookHost.Default();
        var review = WithContainers(Reviews.OptedIn((SchedExtKeys.Profile, "dev-2x")), [("main", null), ("worker", null)]);
        Reviews.Pod(review)["spec"]!["containers"]![1]!["resources"] = JsonNode.Parse("""{"requests":{"nvidia.com/gpu":"1"}}""");

        var answer = await host.PostAsync(review.ToJsonString());

        Assert.True(answer.Allowed, answer.Body);
        var pod = answer.Apply(Reviews.Pod(review));
        Assert.Equal("-,1", Limits(pod));
        Assert.Equal("1", pod["metadata"]!["annotations"]![SchedExtKeys.Gpus]!.GetValue<string>());
        await AssertSecondPassChangesNothing(host, review, pod);
    }

    [Fact]
    public async Task Mutate_SeveralContainersBeyondAnyNode_InvalidGpuCountNamingThem()
    {
        using var host = WebhookHost.Default();
        var review = WithContainers(Reviews.OptedIn((SchedExtKeys.Gpus, "4")), [("main", "40"), ("sidecar", "40")]);

        var answer = await host.PostAsync(review.ToJsonString());

        Assert.False(answer.Allowed);
        Assert.Contains("the containers' nvidia.com/gpu (main: 40, sidecar: 40) come to 80 GPU(s) for the pod, not a GPU count in 1..64", answer.Body, StringComparison.Ordinal);
    }

    private static WebhookHost Host(int enforceGpus, string mode = "enforce") => WebhookHost.Default(WebhookHost.Policy(mode, lockedGpus: enforceGpus));

    /// <summary>The sample's one container copied under each name, holding <c>nvidia.com/gpu</c> as limit and request (null: none).</summary>
    private static JsonObject WithContainers(JsonObject review, (string Name, string? Gpus)[] containers)
    {
        var array = Reviews.Pod(review)["spec"]!["containers"]!.AsArray();
        var template = array[0]!.DeepClone();
        array.Clear();
        foreach (var (name, gpus) in containers)
        {
            var c = template.DeepClone();
            c["name"] = name;
            c["resources"] = gpus is null ? new JsonObject() : Quantities(gpus);
            array.Add(c);
        }

        return review;
    }

    private static void AddInitContainer(JsonObject review, string name, string gpus)
    {
        var init = Reviews.Pod(review)["spec"]!["containers"]![0]!.DeepClone();
        init["name"] = name;
        init["resources"] = Quantities(gpus);
        Reviews.Pod(review)["spec"]!["initContainers"] = new JsonArray(init);
    }

    private static JsonNode Quantities(string gpus) =>
        JsonNode.Parse($$$"""{"limits":{"nvidia.com/gpu":"{{{gpus}}}"},"requests":{"nvidia.com/gpu":"{{{gpus}}}"}}""")!;

    private static JsonObject InLocked(JsonObject review)
    {
        review["request"]!["namespace"] = "locked";
        Reviews.Pod(review)["metadata"]!["namespace"] = "locked";
        return review;
    }

    /// <summary>Each container's <c>nvidia.com/gpu</c> limit, comma-separated; <c>-</c> for none.</summary>
    private static string Limits(JsonNode pod) =>
        string.Join(",", pod["spec"]!["containers"]!.AsArray().Select(c => c!["resources"]?["limits"]?["nvidia.com/gpu"]?.GetValue<string>() ?? "-"));

    private static async Task AssertSecondPassChangesNothing(WebhookHost host, JsonObject review, JsonNode patched)
    {
        var again = await host.PostAsync(Reviews.WithPod(review, patched).ToJsonString());
        Assert.True(again.Patch.Count == 0, "second pass patch: " + again.PatchJson);
    }
}
