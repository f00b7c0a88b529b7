using System.Text.Json.Nodes;
using SchedExt.Testing;

namespace SchedExt.Extender.Tests.Verbs;

/// <summary>
/// Golden request/response pairs for every verb, in <c>tests/testdata/extender/golden/&lt;case&gt;/</c>: <c>verb</c> names the
/// route, <c>request.json</c> is what kube-scheduler sends, <c>response.json</c> what must come back (compared as JSON),
/// and an optional <c>setup-filter.json</c> is posted to /filter first (a bind needs the pod seen pending). Every case
/// runs against <see cref="GoldenCluster"/>. Set SCHEDEXT_UPDATE_GOLDEN=1 to rewrite the responses that differ (those cases fail), then review the diff.
/// </summary>
public sealed class GoldenVerbTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var dir in Directory.GetDirectories(TestData.PathOf("extender", "golden")).Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(dir));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Verb_GoldenCase_AnswersAsRecorded(string name)
    {
        var dir = TestData.PathOf("extender", "golden", name);
        using var factory = new ExtenderFactory(GoldenCluster.Objects());
        var setup = Path.Combine(dir, "setup-filter.json");
        if (File.Exists(setup))
        {
            var (setupStatus, _) = await factory.PostAsync("filter", await File.ReadAllTextAsync(setup));
            Assert.Equal(200, setupStatus);
        }

        var verb = (await File.ReadAllTextAsync(Path.Combine(dir, "verb"))).Trim();
        var (status, body) = await factory.PostAsync(verb, await File.ReadAllTextAsync(Path.Combine(dir, "request.json")));
        Assert.Equal(200, status);

        var expectedFile = Path.Combine(dir, "response.json");
        if (GoldenFiles.Update(expectedFile, JsonNode.Parse(body)!.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n"))
        {
            Assert.Fail(GoldenFiles.Rewritten([expectedFile]));
        }

        var expected = JsonNode.Parse(await File.ReadAllTextAsync(expectedFile));
        var actual = JsonNode.Parse(body);
        Assert.True(JsonNode.DeepEquals(expected, actual), $"{name}: expected\n{expected}\nbut got\n{actual}");
    }
}
