using System.Text.Json.Nodes;

namespace SchedExt.Extender.Tests.Verbs;

/// <summary>What filter tells users about rejected nodes, for requests at the edges of what the annotations allow.</summary>
public sealed class FilterReasonTests
{
    [Fact]
    public async Task Filter_ProductGlobLongerThanAnyFormattingBuffer_ReasonStillNamesIt()
    {
        // The glob's length is not limited; a reason once came back empty past ≈ 470 characters.
        var glob = "*" + new string('q', 2000) + "*";
        var pod = """{"metadata":{"name":"m","namespace":"n","uid":"u-m","annotations":{"schedext.io/gpu-product":"GLOB"}},"spec":{"containers":[{"resources":{"limits":{"nvidia.com/gpu":"1"}}}]}}""".Replace("GLOB", glob, StringComparison.Ordinal);
        using var factory = new ExtenderFactory(GoldenCluster.Objects());

        var (status, body) = await factory.PostAsync("filter", "{\"Pod\":" + pod + ",\"NodeNames\":[\"dgx-free\",\"pcie-metal\"]}");

        Assert.Equal(200, status);
        var reply = JsonNode.Parse(body)!;
        var reasons = reply["FailedNodes"]!.AsObject().Concat(reply["FailedAndUnresolvableNodes"]!.AsObject()).ToDictionary(p => p.Key, p => p.Value!.GetValue<string>());
        Assert.Equal(["dgx-free", "pcie-metal"], reasons.Keys.Order(StringComparer.Ordinal));
        Assert.All(reasons.Values, r => Assert.Equal($"needs 1 free GPU matching '{glob}'; 0 free GPUs do", r));
    }

    [Theory]
    [InlineData("*V100* ")]
    [InlineData(" tesla v100-sxm2-32gb")]
    [InlineData("Tesla V100 SXM2 32GB")]
    public async Task Filter_ProductGlobWithStraySpacesOrSpacesForDashes_StillMatches(string glob)
    {
        // A trailing space (YAML, templating) made the matching node unresolvable, so preemption was never tried either;
        // the other request annotations were trimmed already. GPU Feature Discovery writes '-' where nvidia-smi has spaces.
        var pod = """{"metadata":{"name":"m","namespace":"n","uid":"u-m","annotations":{"schedext.io/gpu-product":"GLOB"}},"spec":{"containers":[{"resources":{"limits":{"nvidia.com/gpu":"1"}}}]}}""".Replace("GLOB", glob, StringComparison.Ordinal);
        using var factory = new ExtenderFactory(GoldenCluster.Objects());

        var (_, body) = await factory.PostAsync("filter", "{\"Pod\":" + pod + ",\"NodeNames\":[\"dgx-free\"]}");

        Assert.Equal("dgx-free", Assert.Single(JsonNode.Parse(body)!["NodeNames"]!.AsArray())!.GetValue<string>());
    }

    [Fact]
    public async Task Filter_PodHoldsGpusNoAssignmentNames_ReasonSaysSoInsteadOfZeroFree()
    {
        // A pod placed by another scheduler holds 1 of the 8 GPUs with no schedext.io/assigned-gpus: which one is unknown,
        // so the node counts as full. The reason said "needs 2 free GPUs; 0 free" while the kubelet showed 7 free.
        var foreign = GoldenCluster.Pod("other", "foreign", "uid-foreign", "n8", "0");
        foreign.Metadata.Annotations = null;
        using var factory = new ExtenderFactory([GoldenCluster.Node("n8", SchedExt.Topology.Shapes.ReferenceTopologies.Dgx1V100, "bare-metal", "r1", "b1"), foreign]);
        var pod = """{"metadata":{"name":"p","namespace":"n","uid":"u-p"},"spec":{"containers":[{"resources":{"limits":{"nvidia.com/gpu":"2"}}}]}}""";

        var (_, body) = await factory.PostAsync("filter", "{\"Pod\":" + pod + ",\"NodeNames\":[\"n8\"]}");

        var reply = JsonNode.Parse(body)!;
        Assert.Equal(
            "a pod on this node holds GPUs that no schedext.io/assigned-gpus names (placed by another scheduler, or its annotation is missing or malformed); which ones is unknown, so none are given out while it runs",
            reply["FailedNodes"]!["n8"]!.GetValue<string>());
        Assert.Null(reply["FailedAndUnresolvableNodes"]!["n8"]);
    }
}
