using System.Text;
using SchedExt.Topology.Annotation;
using SchedExt.Topology.Model;

namespace SchedExt.Topology.Tests.Annotation;

public sealed class TopologyAnnotationTests
{
    private const string Canonical =
        """{"v":1,"gpus":[{"i":0,"uuid":"GPU-5b2a6c8e-0f6a-4c39-9d55-3f1e2d0c7a11","product":"NVIDIA H200","memMiB":143771,"numa":0},{"i":1,"product":"NVIDIA H200","memMiB":143771}],"nics":[{"name":"mlx5_0","numa":0},{"name":"mlx5_1"}],"numa":[{"id":0,"cpus":"0-55,112-167"}],"gpuLinks":["X NV18","NV18 X"],"nicLinks":["PXB NODE","SYS SYS"]}""";

    [Fact]
    public void Parse_CanonicalExample_ReadsEveryField()
    {
        var t = TopologyAnnotation.Parse(Canonical);

        Assert.Equal(
            [new GpuDevice(0, "GPU-5b2a6c8e-0f6a-4c39-9d55-3f1e2d0c7a11", "NVIDIA H200", 143771, 0), new GpuDevice(1, null, "NVIDIA H200", 143771, -1)],
            t.Gpus);
        Assert.Equal([new NicDevice("mlx5_0", 0), new NicDevice("mlx5_1", -1)], t.Nics);
        Assert.Equal([new NumaNodeInfo(0, "0-55,112-167")], t.NumaNodes);
        Assert.Equal(Link.NvLink(18), t.GpuLink(1, 0));
        Assert.Equal([Link.Pxb, Link.Node, Link.Sys, Link.Sys], [t.NicLink(0, 0), t.NicLink(0, 1), t.NicLink(1, 0), t.NicLink(1, 1)]);
        Assert.True(t.IsKnown);
    }

    [Theory]
    [InlineData("full example", Canonical)]
    [InlineData("no GPUs", """{"v":1,"gpus":[],"gpuLinks":[]}""")]
    [InlineData("one bare GPU", """{"v":1,"gpus":[{"i":0}],"gpuLinks":["X"]}""")]
    [InlineData("escaped and non-ASCII text", """{"v":1,"gpus":[{"i":0,"product":"Ñ € \"quoted\" \\ <+>"}],"gpuLinks":["X"]}""")]
    [InlineData("astral characters stay \\u-escaped", """{"v":1,"gpus":[{"i":0,"product":"\uD83D\uDE80"}],"gpuLinks":["X"]}""")]
    public void Serialize_ParsedCanonicalText_ReproducesItExactly(string name, string json)
    {
        _ = name;
        Assert.Equal(json, TopologyAnnotation.Serialize(TopologyAnnotation.Parse(json)));
    }

    [Theory]
    [InlineData("keys sorted as jq and Go do", """{"gpuLinks":["X NV18","NV18 X"],"gpus":[{"i":0},{"i":1}],"v":1}""")]
    [InlineData("whitespace and indentation", "{\n  \"v\": 1,\n  \"gpus\": [ { \"i\": 0 }, { \"i\": 1 } ],\n  \"gpuLinks\": [ \" X   NV18 \", \"NV18 X\" ]\n}\n")]
    [InlineData("explicit defaults and empty lists", """{"v":1,"gpus":[{"i":0,"numa":-1,"memMiB":0},{"i":1}],"nics":[],"numa":[],"gpuLinks":["X NV18","NV18 X"],"nicLinks":["",""]}""")]
    [InlineData("empty nics and nicLinks", """{"v":1,"gpus":[{"i":0},{"i":1}],"nics":[],"gpuLinks":["X NV18","NV18 X"],"nicLinks":[]}""")]
    [InlineData("escaped key", """{"\u0076":1,"gpus":[{"i":0},{"i":1}],"gpuLinks":["X NV18","NV18 X"]}""")]
    public void Parse_NonCanonicalText_SerializesToCanonical(string name, string json)
    {
        _ = name;
        Assert.Equal("""{"v":1,"gpus":[{"i":0},{"i":1}],"gpuLinks":["X NV18","NV18 X"]}""", TopologyAnnotation.Serialize(TopologyAnnotation.Parse(json)));
    }

    [Fact]
    public void Parse_SocToken_ReadsAsSysAndWritesSys()
    {
        var t = TopologyAnnotation.Parse("""{"v":1,"gpus":[{"i":0},{"i":1}],"gpuLinks":["X SOC","SYS X"]}""");

        Assert.Equal(Link.Sys, t.GpuLink(0, 1));
        Assert.Contains("\"X SYS\"", TopologyAnnotation.Serialize(t), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Utf8Span_EqualsStringParse()
    {
        var fromSpan = TopologyAnnotation.Parse(Encoding.UTF8.GetBytes(Canonical));

        Assert.True(fromSpan.StructurallyEquals(TopologyAnnotation.Parse(Canonical)));
    }

    [Fact]
    public void Serialize_UnknownTopology_Throws()
    {
        Assert.Throws<ArgumentException>(() => TopologyAnnotation.Serialize(NodeTopology.Unknown(4)));
    }

    private const string TwoGpus = """
        "gpus":[{"i":0},{"i":1}],"gpuLinks":["X NV2","NV2 X"]
        """;

    [Theory]
    [InlineData("missing version", """{"gpus":[],"gpuLinks":[]}""", "v", "missing required field")]
    [InlineData("newer version first", """{"v":2,"gpus":[{"x":1}]}""", "v", "unsupported version 2; this build reads 1")]
    [InlineData("newer version last, after unknown keys", """{"gpus":"x","topology":{},"v":2}""", "v", "unsupported version 2; this build reads 1")]
    [InlineData("version 0", """{"v":0,"gpus":[],"gpuLinks":[]}""", "v", "unsupported version 0; this build reads 1")]
    [InlineData("version as string", """{"v":"1","gpus":[],"gpuLinks":[]}""", "v", "expected an integer, found a string")]
    [InlineData("version fraction", """{"v":1.5,"gpus":[],"gpuLinks":[]}""", "v", "expected an integer, found a fraction or an out-of-range number")]
    [InlineData("version twice", """{"v":1,"v":1,"gpus":[],"gpuLinks":[]}""", "v", "listed twice")]
    [InlineData("missing gpus", """{"v":1,"gpuLinks":[]}""", "gpus", "missing required field")]
    [InlineData("missing gpuLinks", """{"v":1,"gpus":[]}""", "gpuLinks", "missing required field")]
    [InlineData("missing nicLinks with NICs", """{"v":1,"gpus":[{"i":0}],"nics":[{"name":"mlx5_0"}],"gpuLinks":["X"]}""", "nicLinks", "missing required field (required when nics is not empty)")]
    [InlineData("unknown top-level property", """{"v":1,"gpu":[],"gpus":[],"gpuLinks":[]}""", "gpu", "unknown property; expected v, gpus, nics, numa, gpuLinks or nicLinks")]
    [InlineData("gpus twice", """{"v":1,"gpus":[],"gpus":[],"gpuLinks":[]}""", "gpus", "listed twice")]
    [InlineData("gpus not an array", """{"v":1,"gpus":{},"gpuLinks":[]}""", "gpus", "expected an array, found an object")]
    [InlineData("gpu not an object", """{"v":1,"gpus":[{"i":0},1],"gpuLinks":[]}""", "gpus[1]", "expected an object, found a number")]
    [InlineData("gpu without index", """{"v":1,"gpus":[{"uuid":"GPU-1"}],"gpuLinks":["X"]}""", "gpus[0].i", "missing required field")]
    [InlineData("gpu index as string", """{"v":1,"gpus":[{"i":"0"}],"gpuLinks":["X"]}""", "gpus[0].i", "expected an integer, found a string")]
    [InlineData("gpu index too large", """{"v":1,"gpus":[{"i":4294967296}],"gpuLinks":["X"]}""", "gpus[0].i", "expected an integer, found a fraction or an out-of-range number")]
    [InlineData("gpu index out of order", """{"v":1,"gpus":[{"i":0},{"i":5}],"gpuLinks":["X SYS","SYS X"]}""", "gpus[1].i", "index 5 out of order; GPU indices must be 0..1 in order")]
    [InlineData("uuid as number", """{"v":1,"gpus":[{"i":0},{"i":1,"uuid":7}],"gpuLinks":["X SYS","SYS X"]}""", "gpus[1].uuid", "expected a string, found a number")]
    [InlineData("uuid null", """{"v":1,"gpus":[{"i":0,"uuid":null}],"gpuLinks":["X"]}""", "gpus[0].uuid", "expected a string, found null")]
    [InlineData("product as boolean", """{"v":1,"gpus":[{"i":0,"product":true}],"gpuLinks":["X"]}""", "gpus[0].product", "expected a string, found a boolean")]
    [InlineData("misspelt gpu property", """{"v":1,"gpus":[{"i":0,"memMib":80}],"gpuLinks":["X"]}""", "gpus[0].memMib", "unknown property; expected i, uuid, product, memMiB or numa")]
    [InlineData("gpu property twice", """{"v":1,"gpus":[{"i":0,"numa":0,"numa":1}],"gpuLinks":["X"]}""", "gpus[0].numa", "listed twice")]
    [InlineData("negative memory", """{"v":1,"gpus":[{"i":0,"memMiB":-1}],"gpuLinks":["X"]}""", "gpus[0].memMiB", "-1 is negative")]
    [InlineData("gpu NUMA below -1", """{"v":1,"gpus":[{"i":0,"numa":-2}],"gpuLinks":["X"]}""", "gpus[0].numa", "-2 is not a NUMA node (use -1 for unknown)")]
    [InlineData("gpu NUMA not listed", """{"v":1,"gpus":[{"i":0,"numa":3}],"numa":[{"id":0}],"gpuLinks":["X"]}""", "gpus[0].numa", "NUMA node 3 is not listed in numa")]
    [InlineData("nic without name", """{"v":1,"gpus":[{"i":0}],"nics":[{"numa":0}],"gpuLinks":["X"],"nicLinks":["PIX"]}""", "nics[0].name", "missing required field")]
    [InlineData("nic name empty", """{"v":1,"gpus":[{"i":0}],"nics":[{"name":" "}],"gpuLinks":["X"],"nicLinks":["PIX"]}""", "nics[0].name", "empty")]
    [InlineData("nic name twice", """{"v":1,"gpus":[{"i":0}],"nics":[{"name":"a"},{"name":"a"}],"gpuLinks":["X"],"nicLinks":["PIX SYS"]}""", "nics[1].name", "NIC 'a' is listed twice")]
    [InlineData("misspelt nic property", """{"v":1,"gpus":[{"i":0}],"nics":[{"name":"a","numaNode":0}],"gpuLinks":["X"],"nicLinks":["PIX"]}""", "nics[0].numaNode", "unknown property; expected name or numa")]
    [InlineData("nic NUMA not listed", """{"v":1,"gpus":[{"i":0}],"nics":[{"name":"a","numa":1}],"numa":[{"id":0}],"gpuLinks":["X"],"nicLinks":["PIX"]}""", "nics[0].numa", "NUMA node 1 is not listed in numa")]
    [InlineData("numa without id", """{"v":1,"gpus":[],"numa":[{"cpus":"0-3"}],"gpuLinks":[]}""", "numa[0].id", "missing required field")]
    [InlineData("numa id twice", """{"v":1,"gpus":[],"numa":[{"id":0},{"id":0}],"gpuLinks":[]}""", "numa[1].id", "NUMA node 0 is listed twice")]
    [InlineData("numa id negative", """{"v":1,"gpus":[],"numa":[{"id":-1}],"gpuLinks":[]}""", "numa[0].id", "-1 is negative")]
    [InlineData("misspelt numa property", """{"v":1,"gpus":[],"numa":[{"id":0,"cpu":"0-3"}],"gpuLinks":[]}""", "numa[0].cpu", "unknown property; expected id or cpus")]
    [InlineData("cpus as array", """{"v":1,"gpus":[],"numa":[{"id":0,"cpus":[0,1]}],"gpuLinks":[]}""", "numa[0].cpus", "expected a string, found an array")]
    [InlineData("gpuLinks not an array", """{"v":1,"gpus":[],"gpuLinks":"X"}""", "gpuLinks", "expected an array, found a string")]
    [InlineData("gpuLinks row not a string", """{"v":1,"gpus":[{"i":0}],"gpuLinks":[["X"]]}""", "gpuLinks[0]", "expected a string, found an array")]
    [InlineData("gpuLinks row missing", """{"v":1,"gpus":[{"i":0},{"i":1}],"gpuLinks":["X NV2"]}""", "gpuLinks", "1 rows; expected 2 (one per GPU)")]
    [InlineData("gpuLinks row short", """{"v":1,"gpus":[{"i":0},{"i":1}],"gpuLinks":["X NV2","NV2"]}""", "gpuLinks[1]", "1 tokens; expected 2 (one per GPU)")]
    [InlineData("unknown link token", """{"v":1,"gpus":[{"i":0},{"i":1},{"i":2},{"i":3}],"gpuLinks":["X SYS SYS SYS","SYS X SYS NV0","SYS SYS X SYS","SYS SYS SYS X"]}""", "gpuLinks[1][3]", "unknown link token 'NV0'")]
    [InlineData("lower-case token", """{"v":1,"gpus":[{"i":0},{"i":1}],"gpuLinks":["X nv2","NV2 X"]}""", "gpuLinks[0][1]", "unknown link token 'nv2'")]
    [InlineData("asymmetric matrix", """{"v":1,"gpus":[{"i":0},{"i":1}],"gpuLinks":["X NV2","NV1 X"]}""", "gpuLinks[1][0]", "matrix is not symmetric: GPU1→GPU0 is NV1 but GPU0→GPU1 is NV2")]
    [InlineData("diagonal not X", """{"v":1,"gpus":[{"i":0},{"i":1}],"gpuLinks":["NV2 NV2","NV2 X"]}""", "gpuLinks[0][0]", "diagonal must be X, found NV2")]
    [InlineData("X off the diagonal", """{"v":1,"gpus":[{"i":0},{"i":1}],"gpuLinks":["X X","X X"]}""", "gpuLinks[0][1]", "X is only allowed on the diagonal")]
    [InlineData("nicLinks row count", """{"v":1,"gpus":[{"i":0},{"i":1}],"nics":[{"name":"a"}],"gpuLinks":["X NV2","NV2 X"],"nicLinks":["PIX"]}""", "nicLinks", "1 rows; expected 2 (one per GPU)")]
    [InlineData("nicLinks row long", """{"v":1,"gpus":[{"i":0}],"nics":[{"name":"a"}],"gpuLinks":["X"],"nicLinks":["PIX PIX"]}""", "nicLinks[0]", "2 tokens; expected 1 (one per NIC)")]
    [InlineData("nicLinks without nics", """{"v":1,"gpus":[{"i":0}],"gpuLinks":["X"],"nicLinks":["PIX"]}""", "nicLinks[0]", "1 tokens; expected 0 (one per NIC)")]
    [InlineData("nicLinks unknown token", """{"v":1,"gpus":[{"i":0}],"nics":[{"name":"a"},{"name":"b"}],"gpuLinks":["X"],"nicLinks":["PIX NVX"]}""", "nicLinks[0][1]", "unknown link token 'NVX'")]
    [InlineData("nicLinks X", """{"v":1,"gpus":[{"i":0}],"nics":[{"name":"a"}],"gpuLinks":["X"],"nicLinks":["X"]}""", "nicLinks[0][0]", "X is not a GPU–NIC link")]
    [InlineData("root not an object", "[]", "$", "expected an object, found an array")]
    [InlineData("empty document", "", "$", "invalid JSON: ")]
    [InlineData("not JSON", "schedext", "$", "invalid JSON: ")]
    [InlineData("truncated in a GPU", """{"v":1,"gpus":[{"i":0,""", "gpus[0]", "invalid JSON: ")]
    [InlineData("truncated in a property value", """{"v":1,"gpus":[{"i":0,"product":"NVID""", "gpus[0].product", "invalid JSON: ")]
    [InlineData("trailing comma", """{"v":1,"gpus":[{"i":0,}],"gpuLinks":["X"]}""", "gpus[0]", "invalid JSON: ")]
    [InlineData("comment", """{"v":1,/* hand-written */"gpus":[],"gpuLinks":[]}""", "$", "invalid JSON: ")]
    [InlineData("trailing content", """{"v":1,"gpus":[],"gpuLinks":[]} {}""", "$", "invalid JSON: ")]
    [InlineData("single quotes", """{'v':1}""", "$", "invalid JSON: ")]
    [InlineData("deep nesting", """{"v":1,"gpus":[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]],"gpuLinks":[]}""", "gpus[0]", "expected an object, found an array")]
    [InlineData("lone surrogate escape in a value", """{"v":1,"gpus":[{"i":0,"product":"\ud800"}],"gpuLinks":["X"]}""", "gpus[0].product", "invalid JSON string: ")]
    [InlineData("lone surrogate escape in a key", """{"v":1,"gpus":[{"i":0,"\udc00":1}],"gpuLinks":["X"]}""", "gpus[0]", "invalid JSON string: ")]
    public void Parse_MalformedAnnotation_NamesTheField(string name, string json, string field, string reason)
    {
        _ = name;
        var e = Assert.Throws<TopologyFormatException>(() => TopologyAnnotation.Parse(json));

        Assert.Equal(field, e.Field);
        Assert.StartsWith(reason, e.Reason, StringComparison.Ordinal);
        Assert.Equal($"{e.Field}: {e.Reason}", e.Message);
    }

    [Fact]
    public void Parse_InvalidJson_KeepsTheJsonExceptionAsCause()
    {
        var e = Assert.Throws<TopologyFormatException>(() => TopologyAnnotation.Parse("""{"v":1,"gpus":[{"i":0,}]}"""));

        Assert.IsAssignableFrom<System.Text.Json.JsonException>(e.InnerException);
    }

    [Fact]
    public void Parse_MoreThan64Gpus_RejectedBeforeTheMatrixIsRead()
    {
        var gpus = string.Join(',', Enumerable.Range(0, 65).Select(i => $$"""{"i":{{i}}}"""));

        var e = Assert.Throws<TopologyFormatException>(() => TopologyAnnotation.Parse($$"""{"v":1,"gpus":[{{gpus}}],"gpuLinks":[]}"""));

        Assert.Equal("gpus", e.Field);
        Assert.Equal("65 GPUs; at most 64 are supported", e.Reason);
    }

    [Theory]
    [InlineData("string just over the cap", false)]
    [InlineData("UTF-8 just over the cap", true)]
    public void Parse_OversizeInput_RejectedWithoutReading(string name, bool utf8)
    {
        _ = name;
        var json = """{"v":1,"gpus":[],"gpuLinks":[]}""" + new string(' ', TopologyAnnotation.MaxBytes);

        var e = Assert.Throws<TopologyFormatException>(() => utf8 ? TopologyAnnotation.Parse(Encoding.UTF8.GetBytes(json)) : TopologyAnnotation.Parse(json));

        Assert.Equal("$", e.Field);
        Assert.EndsWith($"an annotation may hold at most {TopologyAnnotation.MaxBytes} bytes", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MultiByteTextOverTheByteCap_Rejected()
    {
        // Fewer characters than the cap, more UTF-8 bytes: the byte count is what is checked.
        var json = $$"""{"v":1,"gpus":[{"i":0,"product":"{{new string('€', TopologyAnnotation.MaxBytes / 2)}}"}],"gpuLinks":["X"]}""";

        var e = Assert.Throws<TopologyFormatException>(() => TopologyAnnotation.Parse(json));

        Assert.Equal("$", e.Field);
    }

    [Fact]
    public void Parse_LargestRealisticNode_FitsUnderTheCap()
    {
        var json = TopologyAnnotation.Serialize(Topology.Shapes.ReferenceTopologies.Synthetic(64, gpusPerNic: 1));

        Assert.True(Encoding.UTF8.GetByteCount(json) < TopologyAnnotation.MaxBytes / 4);
        Assert.Equal(64, TopologyAnnotation.Parse(json).GpuCount);
    }
}
