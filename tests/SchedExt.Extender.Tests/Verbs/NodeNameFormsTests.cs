using System.Text.Json.Nodes;

namespace SchedExt.Extender.Tests.Verbs;

/// <summary>
/// Names in NodeNames are answered in the form they were sent (escapes and non-ASCII included): the reply's lists
/// partition exactly the names of the request, as a JSON parser reads them, in filter and prioritize.
/// </summary>
public sealed class NodeNameFormsTests
{
    private const string Pod = """{"metadata":{"name":"m","namespace":"n","uid":"u-m","annotations":{"schedext.io/interconnect":"nvlink"}},"spec":{"containers":[{"resources":{"limits":{"nvidia.com/gpu":"4"}}}]}}""";

    // dgx-free fits (escaped as \u002d), dgx-split fails, a non-ASCII unknown name, a name with an escaped quote.
    private const string Names = """["dgx\u002dfree","dgx-split","gpu-ü-unknown","we\"ird","pcie-metal"]""";

    [Fact]
    public async Task Filter_EscapedAndNonAsciiNames_PartitionTheRequestedNames()
    {
        using var factory = new ExtenderFactory(GoldenCluster.Objects());
        var (status, body) = await factory.PostAsync("filter", "{\"Pod\":" + Pod + ",\"NodeNames\":" + Names + "}");
        Assert.Equal(200, status);
        var reply = JsonNode.Parse(body)!;
        var passing = reply["NodeNames"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
        var failed = reply["FailedNodes"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<string>());
        var unresolvable = reply["FailedAndUnresolvableNodes"]!.AsObject().Select(p => p.Key).ToList();

        Assert.Equal(["dgx-free"], passing);
        Assert.Equal("needs 4 NVLink-connected free GPUs; largest free NVLink group is 3", failed["dgx-split"]);
        Assert.StartsWith("node is not known to SchedExt", failed["gpu-ü-unknown"], StringComparison.Ordinal);
        Assert.StartsWith("node is not known to SchedExt", failed["we\"ird"], StringComparison.Ordinal);
        var all = passing.Concat(failed.Keys).Concat(unresolvable).Order(StringComparer.Ordinal).ToList();
        var sent = JsonNode.Parse(Names)!.AsArray().Select(n => n!.GetValue<string>()).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(sent, all);
    }

    [Fact]
    public async Task Prioritize_EscapedAndNonAsciiNames_ScoreEveryNameOnce()
    {
        using var factory = new ExtenderFactory(GoldenCluster.Objects());
        var (status, body) = await factory.PostAsync("prioritize", "{\"Pod\":" + Pod + ",\"NodeNames\":" + Names + "}");
        Assert.Equal(200, status);
        var scores = JsonNode.Parse(body)!.AsArray().ToDictionary(e => e!["Host"]!.GetValue<string>(), e => e!["Score"]!.GetValue<int>());
        Assert.Equal(5, scores.Count);
        Assert.InRange(scores["dgx-free"], 1, 10);
        Assert.Equal(0, scores["dgx-split"]);
        Assert.Equal(0, scores["gpu-ü-unknown"]);
        Assert.Equal(0, scores["we\"ird"]);
    }
}
