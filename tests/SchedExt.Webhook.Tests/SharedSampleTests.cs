using System.Net;
using System.Text.Json.Nodes;
using SchedExt.Testing;
using SchedExt.Topology.Requests;

namespace SchedExt.Webhook.Tests;

/// <summary>The shared AdmissionReview samples (tests/testdata/admission-review), byte for byte as kube-apiserver sent them.</summary>
public sealed class SharedSampleTests : IDisposable
{
    private readonly WebhookHost _host = WebhookHost.Default();

    public void Dispose() => _host.Dispose();

    public static TheoryData<string> Samples()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(TestData.PathOf("admission-review"), "*.json").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public async Task Mutate_SharedSampleAsSent_AllowedUntouchedWithUidEchoed(string sample)
    {
        var body = TestData.ReadText("admission-review", sample);

        var review = await _host.PostAsync(body);

        Assert.Equal(HttpStatusCode.OK, review.Status);
        Assert.True(review.Allowed);
        Assert.Null(review.PatchJson);
        Assert.Equal(JsonNode.Parse(body)!["request"]!["uid"]!.GetValue<string>(), review.Response["uid"]!.GetValue<string>());
        Assert.Equal("admission.k8s.io/v1", JsonNode.Parse(review.Body)!["apiVersion"]!.GetValue<string>());
        Assert.Equal("AdmissionReview", JsonNode.Parse(review.Body)!["kind"]!.GetValue<string>());
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public async Task Mutate_SharedSampleOptedIn_PatchAppliesAndSecondPassIsEmpty(string sample)
    {
        var request = Reviews.Sample(sample);
        request["request"]!["object"]!["metadata"]!["annotations"]![SchedExtKeys.Profile] = "train-8x-h100";

        var review = await _host.PostAsync(request.ToJsonString());

        Assert.True(review.Allowed);
        Assert.Equal("JSONPatch", review.Response["patchType"]!.GetValue<string>());
        var patched = review.Apply(Reviews.Pod(request));
        Assert.Equal("8", patched["spec"]!["containers"]![0]!["resources"]!["limits"]!["nvidia.com/gpu"]!.GetValue<string>());
        Assert.Equal("schedext-scheduler", patched["spec"]!["schedulerName"]!.GetValue<string>());
        Assert.Equal("nvlink", patched["metadata"]!["annotations"]![SchedExtKeys.Interconnect]!.GetValue<string>());
        Assert.Equal("bare-metal", patched["metadata"]!["labels"]!["fleet.schedext.io/pool"]!.GetValue<string>());
        var again = await _host.PostAsync(Reviews.WithPod(request, patched).ToJsonString());
        Assert.Null(again.PatchJson);
    }
}
