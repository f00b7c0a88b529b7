using System.Text.Json.Nodes;
using SchedExt.Extender.Protocol;
using SchedExt.Extender.Tests.Verbs;
using SchedExt.Testing;

namespace SchedExt.Extender.Tests.Protocol;

/// <summary>
/// The exact bytes kube-scheduler's Go types produce (tests/testdata/extender-wire, from k8s.io/kube-scheduler's
/// compatibility test): our readers decode every field of the argument types, and the result types we write have the
/// same keys and value kinds as upstream's.
/// </summary>
public sealed class WireSampleTests
{
    private static byte[] Sample(string name) => File.ReadAllBytes(TestData.PathOf("extender-wire", name));

    private static VerbScratch Load(string name)
    {
        var scratch = new VerbScratch();
        var bytes = Sample(name);
        scratch.Append(new System.Buffers.ReadOnlySequence<byte>(bytes));
        return scratch;
    }

    [Fact]
    public void ExtenderArgs_UpstreamSample_DecodesPodNodesAndNodeNames()
    {
        var scratch = Load("ExtenderArgs.json");
        ExtenderArgsReader.Read(scratch, "nvidia.com/gpu"u8);
        Assert.Equal("podname", scratch.Pod.Name);
        Assert.False(scratch.Pod.RequestsGpus);
        Assert.Equal(["node1"], scratch.NodeNames.Select(n => System.Text.Encoding.UTF8.GetString(scratch.NameUtf8(n))));
        Assert.Equal(["nodename"], scratch.NodeItemNames);

        // The node object is kept byte-for-byte, so Nodes mode echoes exactly what was sent.
        var item = JsonNode.Parse(scratch.Slice(scratch.NodeItems[0]).ToArray());
        var expected = JsonNode.Parse(Sample("ExtenderArgs.json"))!["Nodes"]!["items"]![0];
        Assert.True(JsonNode.DeepEquals(expected, item));
    }

    [Fact]
    public void ExtenderBindingArgs_UpstreamSample_DecodesAllFields()
    {
        var args = SmallArgsReader.ReadBinding(Sample("ExtenderBindingArgs.json"));
        Assert.Equal(new BindingArgs("mypodname", "mypodnamespace", "mypoduid", "mynode"), args);
    }

    [Fact]
    public void ExtenderBindingArgs_LowerCaseKeys_DecodeLikeGo()
    {
        var args = SmallArgsReader.ReadBinding("""{"podname":"a","podnamespace":"b","poduid":"c","node":"d"}"""u8);
        Assert.Equal(new BindingArgs("a", "b", "c", "d"), args);
    }

    [Fact]
    public void ExtenderPreemptionArgs_UpstreamSample_DecodesBothVictimForms()
    {
        var scratch = Load("ExtenderPreemptionArgs.json");
        var args = new PreemptionArgs();
        SmallArgsReader.ReadPreemption(scratch, "nvidia.com/gpu"u8, args);
        Assert.Equal("podname", scratch.Pod.Name);
        var foo = args.Nodes["foo"];
        Assert.Equal(["myuid"], foo.Pods.Select(p => p.Uid)); // the meta form wins for a node named in both
        Assert.Equal(1, foo.NumPdbViolations);
    }

    public static TheoryData<string, string, string, string[]> ResultShapes => new()
    {
        // sample, verb, request that makes our service answer with that result type, keys our answer may leave null.
        // The filter pod needs an NVLink quad: dgx-split (3 free per quad) fails, pcie-metal and plain cannot ever hold
        // it, so both failure maps are filled; Nodes stays null because the request names nodes (nodeCacheCapable).
        { "ExtenderFilterResult.json", "filter", """{"Pod":{"metadata":{"name":"p","annotations":{"schedext.io/interconnect":"nvlink"}},"spec":{"containers":[{"resources":{"limits":{"nvidia.com/gpu":"4"}}}]}},"NodeNames":["dgx-free","dgx-split","pcie-metal","plain"]}""", ["Nodes"] },
        { "ExtenderBindingResult.json", "bind", """{"PodName":"x","PodNamespace":"y","PodUID":"z","Node":"dgx-free"}""", [] },
        { "ExtenderPreemptionResult.json", "preempt", PreemptHelps, [] },
    };

    /// <summary>
    /// dgx-split has GPUs 0 and 4 held by uid-holder-split, so neither NVLink quad is free; evicting it frees one. Our
    /// answer keeps the node with its victim, so the nested victim entry is there to compare.
    /// </summary>
    private const string PreemptHelps = """{"Pod":{"metadata":{"name":"p","uid":"u","annotations":{"schedext.io/interconnect":"nvlink"}},"spec":{"containers":[{"resources":{"limits":{"nvidia.com/gpu":"4"}}}]}},"NodeNameToMetaVictims":{"dgx-split":{"Pods":[{"UID":"uid-holder-split"}],"NumPDBViolations":1}}}""";

    [Fact]
    public async Task PreemptionResult_OurVictimEntry_HasTheUpstreamNestedShape()
    {
        using var factory = new ExtenderFactory(GoldenCluster.Objects());
        var (status, body) = await factory.PostAsync("preempt", PreemptHelps);
        Assert.Equal(200, status);
        var upstream = JsonNode.Parse(Sample("ExtenderPreemptionResult.json"))!["NodeNameToMetaVictims"]!["foo"]!.AsObject();
        var ours = JsonNode.Parse(body)!["NodeNameToMetaVictims"]!.AsObject();

        var (node, entry) = Assert.Single(ours);
        Assert.Equal("dgx-split", node);
        Assert.Equal(upstream.Select(p => p.Key), entry!.AsObject().Select(p => p.Key));
        Assert.Equal(upstream["NumPDBViolations"]!.GetValueKind(), entry["NumPDBViolations"]!.GetValueKind());
        var victim = Assert.Single(entry["Pods"]!.AsArray())!.AsObject();
        Assert.Equal(upstream["Pods"]![0]!.AsObject().Select(p => p.Key), victim.Select(p => p.Key));
        Assert.Equal("uid-holder-split", victim["UID"]!.GetValue<string>());
    }

    [Theory]
    [MemberData(nameof(ResultShapes))]
    public async Task Result_OurAnswer_HasUpstreamKeysAndKinds(string sample, string verb, string request, string[] mayBeNull)
    {
        using var factory = new ExtenderFactory(GoldenCluster.Objects());
        var (status, body) = await factory.PostAsync(verb, request);
        Assert.Equal(200, status);
        var upstream = JsonNode.Parse(Sample(sample))!.AsObject();
        var ours = JsonNode.Parse(body)!.AsObject();
        Assert.Equal(upstream.Select(p => p.Key).Order(StringComparer.Ordinal), ours.Select(p => p.Key).Order(StringComparer.Ordinal));
        foreach (var (key, value) in ours)
        {
            // null is how Go encodes an absent slice or map: allowed only where this request leaves the field absent.
            Assert.True(value is not null || mayBeNull.Contains(key), $"{sample}: {key} is null");
            Assert.True(value is null || value.GetValueKind() == upstream[key]!.GetValueKind(), $"{sample}: {key} is {value?.GetValueKind()}, upstream {upstream[key]!.GetValueKind()}");
        }
    }

    [Fact]
    public async Task HostPriority_OurAnswer_IsArrayOfUpstreamShape()
    {
        using var factory = new ExtenderFactory(GoldenCluster.Objects());
        var (_, body) = await factory.PostAsync("prioritize", """{"Pod":{"metadata":{"name":"p"},"spec":{"containers":[{"resources":{"limits":{"nvidia.com/gpu":"1"}}}]}},"NodeNames":["dgx-free","hgx-vm"]}""");
        var upstream = JsonNode.Parse(Sample("HostPriority.json"))!.AsObject();
        var entries = JsonNode.Parse(body)!.AsArray();
        Assert.Equal(["dgx-free", "hgx-vm"], entries.Select(e => e!["Host"]!.GetValue<string>()));
        foreach (var entry in entries)
        {
            Assert.Equal(upstream.Select(p => p.Key), entry!.AsObject().Select(p => p.Key));
            Assert.Equal(upstream["Score"]!.GetValueKind(), entry["Score"]!.GetValueKind());
            Assert.InRange(entry["Score"]!.GetValue<int>(), 0, 10);
        }
    }
}
