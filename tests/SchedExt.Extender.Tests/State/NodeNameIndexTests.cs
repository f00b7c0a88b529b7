using System.Text;
using SchedExt.Extender.State;

namespace SchedExt.Extender.Tests.State;

/// <summary>The UTF-8 node name index: every name at its position, nothing else found, and kept while the names stay.</summary>
public sealed class NodeNameIndexTests
{
    [Fact]
    public void IndexOf_ManyNamesOfEveryLength_FindsEachAtItsPositionAndNothingElse()
    {
        var random = new Random(7);
        const string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-.ü漢";
        var names = new HashSet<string>(StringComparer.Ordinal);
        while (names.Count < 3000)
        {
            var length = random.Next(0, 70);
            names.Add(new string(Enumerable.Range(0, length).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray()));
        }

        var ordered = names.ToList();
        var index = NodeNameIndex.Build(ordered);
        Assert.Equal(ordered.Count, index.Count);
        for (var i = 0; i < ordered.Count; i++)
        {
            Assert.Equal(i, index.IndexOf(Encoding.UTF8.GetBytes(ordered[i])));
            Assert.Equal(ordered[i], index.NameAt(i));
        }

        // Near misses: one byte longer, shorter or changed.
        foreach (var name in ordered.Take(500))
        {
            foreach (var miss in new[] { name + "x", name.Length > 0 ? name[..^1] : "zz-none", "#" + name })
            {
                if (!names.Contains(miss))
                {
                    Assert.Equal(-1, index.IndexOf(Encoding.UTF8.GetBytes(miss)));
                }
            }
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(40)]
    [InlineData(2000)]
    public void ResolveAll_AnyCount_AgreesWithIndexOfOneByOne(int count)
    {
        var names = Enumerable.Range(0, 1000).Select(i => $"node-{i:D4}.example").ToList();
        var index = NodeNameIndex.Build(names);
        var random = new Random(count);

        // Known names in random order, repeats, and names the index does not hold.
        var asked = Enumerable.Range(0, count).Select(_ => random.Next(4) == 0 ? $"ghost-{random.Next()}" : names[random.Next(names.Count)]).ToList();
        var positions = new int[count];
        index.ResolveAll(new Names(asked), positions, new int[count]);
        for (var i = 0; i < count; i++)
        {
            Assert.Equal(index.IndexOf(Encoding.UTF8.GetBytes(asked[i])), positions[i]);
            Assert.Equal(asked[i].StartsWith("ghost-", StringComparison.Ordinal) ? -1 : names.IndexOf(asked[i]), positions[i]);
        }
    }

    [Fact]
    public void ResolveAll_OnlyAnEmptyName_FindsItAndNothingElse()
    {
        var index = NodeNameIndex.Build([""]);
        var positions = new int[2];
        index.ResolveAll(new Names(["", "x"]), positions, new int[2]);
        Assert.Equal([0, -1], positions);
    }

    [Fact]
    public void ResolveAll_OnAnEmptyIndex_FindsNothing()
    {
        var positions = new int[3];
        NodeNameIndex.Empty.ResolveAll(new Names(["a", "b", "c"]), positions, new int[3]);
        Assert.Equal([-1, -1, -1], positions);
    }

    private readonly struct Names(List<string> names) : INameList
    {
        private readonly byte[][] _utf8 = names.Select(Encoding.UTF8.GetBytes).ToArray();

        public int Count => _utf8.Length;

        public ReadOnlySpan<byte> Name(int i) => _utf8[i];
    }

    [Fact]
    public void Empty_FindsNothing() => Assert.Equal(-1, NodeNameIndex.Empty.IndexOf("gpu-1"u8));

    [Fact]
    public void ClusterState_PodChangesKeepTheIndex_NodeChangesRebuildIt()
    {
        var kit = new SourceKit();
        var state = kit.State;
        NodeInfo Node(string name) => kit.DgxNode(name);
        state.ReplaceAll([Node("a"), Node("b")], []);
        var first = state.Current;
        Assert.Equal("b", first.NodeAt(first.IndexOf("b"u8)).Name);

        state.UpsertPod(new PodAllocation("uid-1", "ns", "p", "b", 0b11, null));
        var second = state.Current;
        Assert.Same(first.NameIndex, second.NameIndex);
        Assert.Equal(0b11UL, second.NodeAt(second.IndexOf("b"u8)).UsedGpus);
        Assert.Equal(0xFCUL, second.FactsAt(second.IndexOf("b"u8)).Free);

        state.UpsertNode(Node("a"));
        Assert.Same(first.NameIndex, state.Current.NameIndex);

        state.UpsertNode(Node("c"));
        var third = state.Current;
        Assert.NotSame(first.NameIndex, third.NameIndex);
        Assert.Equal("c", third.NodeAt(third.IndexOf("c"u8)).Name);

        state.RemoveNode("a");
        var fourth = state.Current;
        Assert.Equal(-1, fourth.IndexOf("a"u8));
        Assert.Equal("b", fourth.NodeAt(fourth.IndexOf("b"u8)).Name);
        Assert.Null(fourth.FindNode("a"u8));
    }
}
