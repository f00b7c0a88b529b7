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
        Assert.All(reasons.Values, r => Assert.Equal($"needs 1 free GPUs matching '{glob}'; 0 free", r));
    }
}
