using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using SchedExt.Extender.Protocol;

namespace SchedExt.Extender.Tests.Protocol;

/// <summary>
/// The NodeNames fast scan: plain names are read without a token per name, anything unusual is left to the JSON reader,
/// and either way the request reads exactly as a JSON parser reads it — including what comes after the array.
/// </summary>
public sealed class NodeNamesScanTests
{
    private const string Pod = """{"metadata":{"name":"p","namespace":"n","uid":"u"},"spec":{"containers":[{"name":"c","resources":{"limits":{"nvidia.com/gpu":"2"}}}]}}""";

    private static VerbScratch Read(string json)
    {
        var scratch = new VerbScratch();
        scratch.Append(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(json)));
        ExtenderArgsReader.Read(scratch, "nvidia.com/gpu"u8);
        return scratch;
    }

    private static List<string> Names(VerbScratch s) => s.NodeNames.Select(n => Encoding.UTF8.GetString(s.NameUtf8(n))).ToList();

    /// <summary>What System.Text.Json makes of the NodeNames array: the reference every case is checked against.</summary>
    private static List<string> Expected(string json) =>
        JsonNode.Parse(json)!["NodeNames"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();

    public static TheoryData<string, string> Bodies => new()
    {
        { "plain, names last", "{\"Pod\":" + Pod + ",\"Nodes\":null,\"NodeNames\":[\"gpu-1\",\"gpu-2\",\"a.b.c\"]}" },
        { "names first, pod after", "{\"NodeNames\":[\"gpu-1\",\"gpu-2\"],\"Pod\":" + Pod + "}" },
        { "whitespace everywhere", "{ \"Pod\" : " + Pod + " ,\n \"NodeNames\" : [ \"gpu-1\" ,\n\t\"gpu-2\"\r\n ] \n}\n" },
        { "empty array", "{\"Pod\":" + Pod + ",\"NodeNames\":[]}" },
        { "empty array with space", "{\"Pod\":" + Pod + ",\"NodeNames\":[ ]}" },
        { "empty name", "{\"Pod\":" + Pod + ",\"NodeNames\":[\"\",\"x\"]}" },
        { "escaped name (reader path)", "{\"Pod\":" + Pod + ",\"NodeNames\":[\"gpu\\u002d1\",\"gpu-2\"]}" },
        { "escaped quote (reader path)", "{\"Pod\":" + Pod + ",\"NodeNames\":[\"a\\\"b\",\"c\"]}" },
        { "non-ASCII name (reader path)", "{\"Pod\":" + Pod + ",\"NodeNames\":[\"gpu-ü\",\"gpu-2\"]}" },
        { "key after names", "{\"Pod\":" + Pod + ",\"NodeNames\":[\"gpu-1\"],\"Extra\":{\"x\":[1,2]}}" },
        { "names key twice", "{\"Pod\":" + Pod + ",\"NodeNames\":[\"a\"],\"NodeNames\":[\"b\"]}" },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public void Read_NodeNames_MatchesAJsonParser(string name, string json)
    {
        var scratch = Read(json);
        var expected = name == "names key twice" ? ["a", "b"] : Expected(json);
        Assert.Equal(expected, Names(scratch));
        Assert.Equal("p", scratch.Pod.Name);
        Assert.True(scratch.Pod.RequestsGpus);
    }

    [Fact]
    public void Read_NodeObjectsAfterScannedNames_SlicesPointAtTheObjects()
    {
        // After a scan the reader continues over the rest of the body: positions it reports are offset, not absolute.
        var node = """{"metadata":{"name":"n1","labels":{"a":"b"}},"status":{}}""";
        var scratch = Read("{\"NodeNames\":[\"gpu-1\",\"gpu-2\"],\"Nodes\":{\"items\":[" + node + "]},\"Pod\":" + Pod + "}");
        Assert.Equal(["gpu-1", "gpu-2"], Names(scratch));
        Assert.Equal(["n1"], scratch.NodeItemNames);
        Assert.Equal(node, Encoding.UTF8.GetString(scratch.Slice(scratch.NodeItems[0])));
    }

    public static TheoryData<string, string> BadBodies => new()
    {
        { "truncated in a name", "{\"Pod\":" + Pod + ",\"NodeNames\":[\"gpu-1\",\"gp" },
        { "truncated after a comma", "{\"Pod\":" + Pod + ",\"NodeNames\":[\"gpu-1\"," },
        { "missing closing brace", "{\"Pod\":" + Pod + ",\"NodeNames\":[\"gpu-1\"]" },
        { "trailing comma", "{\"Pod\":" + Pod + ",\"NodeNames\":[\"gpu-1\",]}" },
        { "missing comma", "{\"Pod\":" + Pod + ",\"NodeNames\":[\"gpu-1\" \"gpu-2\"]}" },
        { "number element", "{\"Pod\":" + Pod + ",\"NodeNames\":[\"gpu-1\",7]}" },
        { "raw control character", "{\"Pod\":" + Pod + ",\"NodeNames\":[\"gpu\t1\"]}" },
        { "garbage after the array", "{\"Pod\":" + Pod + ",\"NodeNames\":[\"gpu-1\"] x}" },
        { "garbage after the object", "{\"Pod\":" + Pod + ",\"NodeNames\":[\"gpu-1\"]} x" },
        { "two commas", "{\"Pod\":" + Pod + ",\"NodeNames\":[\"gpu-1\"],,\"X\":1}" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public void Read_MalformedNodeNames_IsAProtocolError(string name, string json)
    {
        Assert.NotNull(name);
        Assert.Throws<ProtocolException>(() => Read(json));
    }

    [Theory]
    [InlineData("one line", "{\"Pod\":" + Pod + ",\"NodeNames\":[\"gpu-1\",\"gpu-2\"] x}")]
    [InlineData("error on the array's line, after a line break", "{\"Pod\":" + Pod + ",\n \"NodeNames\":[\"gpu-1\", \"gpu-2\"],\"X\":tru}")]
    [InlineData("error on a later line", "{\"Pod\":" + Pod + ",\"NodeNames\":[\"gpu-1\"],\n\"X\": nul}")]
    [InlineData("names read by the reader", "{\"Pod\":" + Pod + ",\"NodeNames\":[\"gpu\\u002d1\"] x}")]
    public void Read_ErrorAfterTheNames_ReportsThePositionAJsonParserReports(string name, string json)
    {
        Assert.NotNull(name);
        var expected = Assert.ThrowsAny<System.Text.Json.JsonException>(() => System.Text.Json.JsonDocument.Parse(json));
        var error = Assert.Throws<ProtocolException>(() => Read(json));
        Assert.Contains($"at line {expected.LineNumber + 1}, byte {expected.BytePositionInLine} of the line:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryScanNames_StopsAtTheFirstUnusualName_AndAddsNothing()
    {
        var body = "[\"a\",\"b\\u0063\"]"u8;
        var names = new List<Utf8Slice> { new(0, 0, false) };
        Assert.False(ExtenderArgsReader.TryScanNames(body, 1, names, out _));
        Assert.Single(names);
    }
}
