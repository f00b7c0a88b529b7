using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using SchedExt.Testing;

namespace SchedExt.Webhook.Tests;

/// <summary>Every folder under tests/testdata/webhook/cases: the request, the expected answer, the patch applied for real, and re-invocation.</summary>
/// <remarks>
/// A case folder holds <c>request.json</c> (an AdmissionReview), <c>expected.json</c> (the response with the patch
/// decoded) and optionally <c>policy.yaml</c> (else the shared tests/testdata/webhook/policy.yaml). The cluster is
/// tests/testdata/webhook/cluster.yaml. Set SCHEDEXT_UPDATE_GOLDEN=1 to rewrite the expected.json files that differ (those cases fail), then review the diff.
/// </remarks>
public sealed class GoldenCaseTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var dir in Directory.GetDirectories(TestData.PathOf("webhook", "cases")).Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(dir));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Mutate_GoldenCase_MatchesExpectedAndPatchApplies(string name)
    {
        var dir = TestData.PathOf("webhook", "cases", name);
        var policyPath = Path.Combine(dir, "policy.yaml");
        using var host = WebhookHost.Default(File.Exists(policyPath) ? File.ReadAllText(policyPath) : null);
        var request = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "request.json")))!.AsObject();

        var review = await host.PostAsync(request.ToJsonString());

        Assert.Equal(HttpStatusCode.OK, review.Status);
        var actual = Decoded(review);
        var expectedPath = Path.Combine(dir, "expected.json");
        if (GoldenFiles.Update(expectedPath, actual.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n"))
        {
            Assert.Fail(GoldenFiles.Rewritten([expectedPath]));
        }

        var expected = JsonNode.Parse(File.ReadAllText(expectedPath));
        Assert.True(JsonNode.DeepEquals(expected, actual), $"{name}: expected\n{expected}\nactual\n{actual}");
        Assert.Equal(request["request"]!["uid"]!.GetValue<string>(), review.Response["uid"]!.GetValue<string>());

        // The patch applies to the pod as sent, and a second pass over the result changes nothing.
        var patched = review.Apply(Reviews.Pod(request));
        var again = await host.PostAsync(Reviews.WithPod(request, patched).ToJsonString());
        Assert.Equal(review.Allowed, again.Allowed);
        Assert.Empty(again.Patch);
    }

    private static JsonObject Decoded(Review review)
    {
        var response = review.Response.DeepClone().AsObject();
        response.Remove("uid");
        if (review.PatchJson is not null)
        {
            response["patch"] = review.Patch.DeepClone();
        }

        if (response["auditAnnotations"]?["would-patch"] is { } wouldPatch)
        {
            response["auditAnnotations"]!["would-patch"] = JsonNode.Parse(wouldPatch.GetValue<string>());
        }

        return response;
    }
}
