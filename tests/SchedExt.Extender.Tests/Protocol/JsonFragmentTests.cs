using System.Text;
using System.Text.Json.Nodes;
using SchedExt.Extender.Protocol;

namespace SchedExt.Extender.Tests.Protocol;

/// <summary>The raw reply fragments are valid JSON with the meaning a JSON writer would give them.</summary>
public sealed class JsonFragmentTests
{
    [Fact]
    public void HostPriority_EveryScoreForm_ParsesToTheSameHostsAndScores()
    {
        var fragment = new JsonFragment();
        fragment.Begin((byte)'[');
        int[] scores = [0, 7, 9, 10, 123, -1];
        foreach (var score in scores)
        {
            fragment.HostPriority(Encoding.UTF8.GetBytes("n" + score), score);
        }

        fragment.End((byte)']');
        var parsed = JsonNode.Parse(fragment.Written.ToArray())!.AsArray();
        Assert.Equal(scores.Select(s => ("n" + s, s)), parsed.Select(e => (e!["Host"]!.GetValue<string>(), e!["Score"]!.GetValue<int>())));
    }

    [Fact]
    public void Property_StringAndRaw_BuildTheObjectsAndArraysSent()
    {
        var fragment = new JsonFragment();
        fragment.Begin((byte)'{');
        fragment.Property("a\\u002db"u8, "needs 4 GPUs; it\\\"s 2"u8);
        fragment.Property("c"u8, ""u8);
        fragment.End((byte)'}');
        var parsed = JsonNode.Parse(fragment.Written.ToArray())!.AsObject();
        Assert.Equal("needs 4 GPUs; it\"s 2", parsed["a-b"]!.GetValue<string>());
        Assert.Equal(string.Empty, parsed["c"]!.GetValue<string>());

        fragment.Begin((byte)'[');
        fragment.String("x"u8);
        fragment.Raw("""{"k":[1,2]}"""u8);
        fragment.End((byte)']');
        Assert.Equal("""["x",{"k":[1,2]}]""", Encoding.UTF8.GetString(fragment.Written));
    }

    [Fact]
    public void Begin_AfterALargeFragment_StartsEmptyAndGrowsAsNeeded()
    {
        var fragment = new JsonFragment();
        fragment.Begin((byte)'[');
        var name = new string('n', 1000);
        for (var i = 0; i < 2000; i++)
        {
            fragment.String(Encoding.UTF8.GetBytes(name));
        }

        fragment.End((byte)']');
        Assert.Equal(2000, JsonNode.Parse(fragment.Written.ToArray())!.AsArray().Count);
        fragment.Begin((byte)'[');
        fragment.End((byte)']');
        Assert.Equal("[]", Encoding.UTF8.GetString(fragment.Written));
    }
}
