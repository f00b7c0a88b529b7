using System.Text.Json.Nodes;
using SchedExt.Topology.Requests;

namespace SchedExt.Webhook.Tests;

/// <summary>Running the webhook again over the pod its first patch produced yields an empty patch, in every mode (docs/webhook.md).</summary>
public sealed class ReinvocationTests
{
    private static readonly string?[] GpusAnnotations = [null, "1", "two"];
    private static readonly string?[] Profiles = [null, "dev-2x", "no-such-profile"];
    private static readonly string[] Namespaces = ["default", "locked"];

    /// <summary>Each container's nvidia.com/gpu (limit and request; <c>r</c>: request only; null: none), then an init container's.</summary>
    private static readonly (string?[] Containers, string? Init)[] Holdings =
    [
        ([null], null),
        (["1"], null),
        (["0"], null),
        (["r1"], null),
        (["1", "2"], null),
        ([null], "4"),
        (["2"], "1"),
    ];

    [Theory]
    [InlineData("enforce", false)]
    [InlineData("warn", false)]
    [InlineData("enforce", true)]
    [InlineData("warn", true)]
    public async Task Mutate_SecondPassOverFirstPassOutput_EmptyPatch(string mode, bool dra)
    {
        // The locked namespace enforces gpus: 2 on top of the shared policy, so enforced, explicit and unparseable counts
        // meet every way the pod can hold GPUs. (Shadow mode is not here: its answers carry no patch, so a second pass
        // would see the unchanged pod. In enforce mode the denied cases pass trivially; warn mode admits and patches them.)
        using var host = WebhookHost.Default(WebhookHost.Policy(mode, lockedGpus: 2, dra: dra));

        var failures = new List<string>();
        var cases = 0;
        var patched = 0;
        foreach (var ns in Namespaces)
        {
            foreach (var gpus in GpusAnnotations)
            {
                foreach (var profile in Profiles)
                {
                    foreach (var (containers, init) in Holdings)
                    {
                        var review = Review(ns, gpus, profile, containers, init);
                        var first = await host.PostAsync(review.ToJsonString());
                        var second = await host.PostAsync(Reviews.WithPod(review, first.Apply(Reviews.Pod(review))).ToJsonString());
                        cases++;
                        patched += first.Patch.Count > 0 ? 1 : 0;
                        if (second.Patch.Count > 0)
                        {
                            failures.Add($"ns={ns} gpus={gpus ?? "-"} profile={profile ?? "-"} containers=[{string.Join(",", containers.Select(c => c ?? "-"))}] init={init ?? "-"}: {second.PatchJson}");
                        }
                    }
                }
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {cases} second passes patched:\n{string.Join("\n", failures)}");
        Assert.True(patched > 0, $"none of {cases} first passes patched anything: the second passes prove nothing");
    }

    private static JsonObject Review(string ns, string? gpus, string? profile, string?[] containers, string? init)
    {
        var annotations = new List<(string, string)>();
        if (gpus is not null)
        {
            annotations.Add((SchedExtKeys.Gpus, gpus));
        }

        if (profile is not null)
        {
            annotations.Add((SchedExtKeys.Profile, profile));
        }

        var review = Reviews.OptedIn([.. annotations]);
        review["request"]!["namespace"] = ns;
        var pod = Reviews.Pod(review);
        pod["metadata"]!["namespace"] = ns;
        var array = pod["spec"]!["containers"]!.AsArray();
        var template = array[0]!;
        array.Clear();
        for (var i = 0; i < containers.Length; i++)
        {
            var c = template.DeepClone();
            c["name"] = "c" + i;
            c["resources"] = Resources(containers[i]);
            array.Add(c);
        }

        if (init is not null)
        {
            var c = template.DeepClone();
            c["name"] = "init";
            c["resources"] = Resources(init);
            pod["spec"]!["initContainers"] = new JsonArray(c);
        }

        return review;
    }

    private static JsonObject Resources(string? gpus) => gpus switch
    {
        null => [],
        ['r', .. var n] => new JsonObject { ["requests"] = new JsonObject { ["nvidia.com/gpu"] = n } },
        _ => new JsonObject { ["limits"] = new JsonObject { ["nvidia.com/gpu"] = gpus }, ["requests"] = new JsonObject { ["nvidia.com/gpu"] = gpus } },
    };
}
