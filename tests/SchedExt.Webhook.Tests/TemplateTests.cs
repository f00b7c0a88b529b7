using SchedExt.Webhook.Mutation;
using SchedExt.Webhook.Policy;

namespace SchedExt.Webhook.Tests;

public sealed class TemplateTests
{
    private static readonly ResolvedIntent Scope = new()
    {
        Namespace = "research",
        PodName = "trainer-0",
        NamespaceLabels = new Dictionary<string, string> { ["schedext.io/tier"] = "gold" },
        PodLabels = new Dictionary<string, string> { ["job-name"] = "llama" },
        PodAnnotations = new Dictionary<string, string> { ["team.io/owner"] = "ml-infra" },
        Gpus = 8,
        Profile = "train",
    };

    [Theory]
    [InlineData("literal", "plain", "plain")]
    [InlineData("namespace", "{namespace}", "research")]
    [InlineData("pod name", "{pod.name}", "trainer-0")]
    [InlineData("gpus", "gpus-{gpus}", "gpus-8")]
    [InlineData("profile", "{profile}", "train")]
    [InlineData("pool without machine", "{pool}", "gpu")]
    [InlineData("namespace label", "{namespace.label:schedext.io/tier}", "gold")]
    [InlineData("pod label", "{pod.label:job-name}", "llama")]
    [InlineData("pod annotation", "{pod.annotation:team.io/owner}", "ml-infra")]
    [InlineData("missing label falls back", "{namespace.label:absent|standard}", "standard")]
    [InlineData("missing without fallback is empty", "{pod.label:absent}", "")]
    [InlineData("mixed", "{namespace}/{pod.label:job-name}-{gpus}", "research/llama-8")]
    public void Render_Template_GivesValue(string name, string template, string expected)
    {
        Assert.True(ValueTemplate.Parse(template).Render(Scope) == expected, name);
    }

    [Theory]
    [InlineData("default claim template", "schedext-gpus-{gpus}", "schedext-gpus-4", 4)]
    [InlineData("two digits", "schedext-gpus-{gpus}", "schedext-gpus-16", 16)]
    [InlineData("other placeholders around it", "{namespace}-{gpus}x-{pod.label:job-name}", "research-2x-llama", 2)]
    [InlineData("a literal digit after it", "g{gpus}0", "g40", 4)]
    [InlineData("the count named twice", "g{gpus}-{gpus}", "g3-3", 3)]
    [InlineData("the count named twice, differing", "g{gpus}-{gpus}", "g3-4", null)]
    [InlineData("leading zero", "schedext-gpus-{gpus}", "schedext-gpus-04", null)]
    [InlineData("another prefix", "schedext-gpus-{gpus}", "my-gpus-4", null)]
    [InlineData("another namespace", "{namespace}-{gpus}", "prod-4", null)]
    [InlineData("text after the count", "schedext-gpus-{gpus}", "schedext-gpus-4-big", null)]
    [InlineData("no digits", "schedext-gpus-{gpus}", "schedext-gpus-", null)]
    [InlineData("no count in the template", "schedext-gpus", "schedext-gpus", null)]
    public void TryReadGpus_Name_GivesTheCountThatRendersIt(string name, string template, string rendered, int? expected)
    {
        var found = ValueTemplate.Parse(template).TryReadGpus(rendered, Scope, out var gpus);

        Assert.True(found == expected.HasValue, name);
        Assert.True(!found || gpus == expected, name);
    }

    [Theory]
    [InlineData("already valid", "eu-west-1", "eu-west-1")]
    [InlineData("slashes and spaces", "team a/b", "team-a-b")]
    [InlineData("leading and trailing junk", "--x--", "x")]
    [InlineData("too long", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("nothing valid", "///", "")]
    public void ToLabelValue_AnyText_GivesValidLabelValue(string name, string input, string expected)
    {
        var value = KubernetesNames.ToLabelValue(input);

        Assert.True(value == expected, name);
        Assert.True(KubernetesNames.IsValidLabelValue(value), name);
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("nvidia.com/gpu", "nvidia.com~1gpu")]
    [InlineData("a~b", "a~0b")]
    [InlineData("~/", "~0~1")]
    [InlineData("a/~1", "a~1~01")]
    public void Escape_PointerToken_FollowsRfc6901(string token, string escaped)
    {
        Assert.Equal(escaped, JsonPatchWriter.Escape(token));
    }
}
