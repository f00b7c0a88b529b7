using System.Buffers;
using System.Text;
using SchedExt.Extender.Protocol;
using SchedExt.Extender.State;
using SchedExt.Extender.Tests.State;

namespace SchedExt.Extender.Tests.Protocol;

/// <summary>
/// NodeNames read while the body arrives: whatever the body and however it is cut into pieces, the request reads
/// exactly as it reads without them, and early positions are used only when they belong to the snapshot asked about.
/// </summary>
public sealed class EarlyNamesTests
{
    private const string Pod = """{"metadata":{"name":"p","namespace":"n","uid":"u","annotations":{"note":"say \"NodeNames\":[\"decoy\"] here"}},"spec":{"containers":[{"name":"c","resources":{"limits":{"nvidia.com/gpu":"2"}}}]}}""";

    private static readonly ClusterState State = NewState(["gpu-1", "gpu-2", "gpu-3", "a.b.c"]);

    public static TheoryData<string, string, bool> Bodies()
    {
        var many = string.Join(',', Enumerable.Range(0, 3000).Select(i => $"\"{(i % 3 == 0 ? "gpu-" + (1 + (i % 2)) : "ghost-" + i)}\""));
        return new()
        {
            // name, body, whether early positions are expected to be used
            { "kube-scheduler's form", "{\"Pod\":" + Pod + ",\"Nodes\":null,\"NodeNames\":[\"gpu-1\",\"gpu-2\",\"a.b.c\",\"ghost\"]}", true },
            { "thousands of names", "{\"Pod\":" + Pod + ",\"Nodes\":null,\"NodeNames\":[" + many + "]}", true },
            { "empty array", "{\"Pod\":" + Pod + ",\"NodeNames\":[]}", true },
            { "spaces inside the array", "{\"Pod\":" + Pod + ",\"NodeNames\":[ \"gpu-1\" , \"gpu-2\"\t]}", true },
            { "names first", "{\"NodeNames\":[\"gpu-1\",\"gpu-2\"],\"Pod\":" + Pod + "}", true },
            { "space before the bracket", "{\"Pod\":" + Pod + ",\"NodeNames\": [\"gpu-1\"]}", false },
            { "other key spelling", "{\"Pod\":" + Pod + ",\"nodeNames\":[\"gpu-1\"]}", false },
            { "escaped name", "{\"Pod\":" + Pod + ",\"NodeNames\":[\"gpu\\u002d1\",\"gpu-2\"]}", false },
            { "non-ASCII name", "{\"Pod\":" + Pod + ",\"NodeNames\":[\"gpu-ü\",\"gpu-2\"]}", false },
            { "names key twice (taken, but the second array's names were not resolved early)", "{\"Pod\":" + Pod + ",\"NodeNames\":[\"gpu-1\"],\"NodeNames\":[\"gpu-2\"]}", false },
            { "pattern inside a key of the pod", "{\"Pod\":{\"x\":{\"NodeNames\":[\"decoy\"]}," + Pod[1..] + ",\"NodeNames\":[\"gpu-3\"]}", false },
        };
    }

    [Theory]
    [MemberData(nameof(Bodies))]
    public void Read_InAnyPieces_SameNamesAsReadWhole(string name, string json, bool taken)
    {
        Assert.NotNull(name);
        var whole = Read(json, pieces: null);
        var random = new Random(json.Length);
        foreach (var cuts in new[] { 1, 2, 7, 50 })
        {
            var early = Read(json, Cuts(json, cuts, random));
            Assert.Equal(Names(whole), Names(early));
            Assert.Equal(whole.AnyEscapedName, early.AnyEscapedName);
            Assert.Equal(whole.Pod.Name, early.Pod.Name);
            var positions = early.Early.PositionsFor(State.Current, early.NodeNames.Count);
            if (taken)
            {
                // Every early position is the position a lookup gives.
                Assert.Equal(early.NodeNames.Count, positions.Length);
                for (var i = 0; i < positions.Length; i++)
                {
                    Assert.Equal(State.Current.IndexOf(early.NameUtf8(early.NodeNames[i])), positions[i]);
                }
            }
            else
            {
                Assert.True(positions.IsEmpty || early.NodeNames.Count == 0);
            }
        }
    }

    [Theory]
    [InlineData("{\"Pod\":" + Pod + ",\"NodeNames\":[\"gpu-1\",\"gp")]
    [InlineData("{\"Pod\":" + Pod + ",\"NodeNames\":[\"gpu-1\",]}")]
    [InlineData("{\"Pod\":" + Pod + ",\"NodeNames\":[\"gpu-1\" \"gpu-2\"]}")]
    [InlineData("{\"Pod\":" + Pod + ",\"NodeNames\":[\"gpu-1\"] x}")]
    [InlineData("{\"Pod\":" + Pod + ",\"NodeNames\":[\"gpu-1\"]")]
    public void Read_MalformedInPieces_SameErrorAsReadWhole(string json)
    {
        var whole = Assert.Throws<ProtocolException>(() => Read(json, pieces: null));
        var early = Assert.Throws<ProtocolException>(() => Read(json, Cuts(json, 9, new Random(1))));
        Assert.Equal(whole.Message, early.Message);
    }

    [Fact]
    public void PositionsFor_AnotherSnapshot_IsEmpty()
    {
        var json = "{\"Pod\":" + Pod + ",\"NodeNames\":[\"gpu-1\",\"gpu-2\"]}";
        var scratch = Read(json, Cuts(json, 3, new Random(2)));
        Assert.Equal(2, scratch.Early.PositionsFor(State.Current, 2).Length);

        var other = NewState(["gpu-2", "gpu-1"]).Current;
        Assert.True(scratch.Early.PositionsFor(other, 2).IsEmpty);
        Assert.True(scratch.Early.PositionsFor(State.Current, 3).IsEmpty);

        scratch.Reset();
        Assert.True(scratch.Early.PositionsFor(State.Current, 2).IsEmpty);
    }

    [Fact]
    public void PositionsFor_AnArrayTheReaderNeverTook_IsEmpty()
    {
        // The guess reads a complete array inside the pod; the request itself sends node objects, not names.
        var json = "{\"Pod\":{\"x\":{\"NodeNames\":[\"gpu-1\"]}," + Pod[1..] + ",\"Nodes\":{\"items\":[{\"metadata\":{\"name\":\"gpu-1\"}}]}}";
        var scratch = Read(json, Cuts(json, 4, new Random(3)));
        Assert.False(scratch.HasNodeNames);
        Assert.Equal(["gpu-1"], scratch.NodeItemNames);
        Assert.True(scratch.Early.PositionsFor(State.Current, 1).IsEmpty);
    }

    /// <summary>Reads <paramref name="json"/> as the verbs do: whole, or arriving in <paramref name="pieces"/> with early names.</summary>
    private static VerbScratch Read(string json, List<byte[]>? pieces)
    {
        var scratch = new VerbScratch();
        foreach (var piece in pieces ?? [Encoding.UTF8.GetBytes(json)])
        {
            scratch.Append(new ReadOnlySequence<byte>(piece));
            if (pieces is not null)
            {
                scratch.Early.Advance(scratch.BodySpan, State.Current);
            }
        }

        ExtenderArgsReader.Read(scratch, "nvidia.com/gpu"u8);
        return scratch;
    }

    private static List<byte[]> Cuts(string json, int count, Random random)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var at = Enumerable.Range(0, count - 1).Select(_ => random.Next(bytes.Length + 1)).Append(0).Append(bytes.Length).Distinct().Order().ToList();
        return at.Zip(at.Skip(1)).Select(p => bytes[p.First..p.Second]).ToList();
    }

    private static List<string> Names(VerbScratch s) => s.NodeNames.Select(n => Encoding.UTF8.GetString(s.NameUtf8(n))).ToList();

    private static ClusterState NewState(string[] names)
    {
        var kit = new SourceKit();
        kit.State.ReplaceAll(names.Select(kit.DgxNode).ToList(), []);
        return kit.State;
    }
}
