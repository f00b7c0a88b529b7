using System.Net;
using System.Text;

namespace SchedExt.Extender.Tests.Verbs;

/// <summary>Whatever arrives, the answer is 400 with a reason or a well-formed Error — never a 500 — and nothing changes.</summary>
public sealed class BadInputTests : IClassFixture<BadInputTests.Host>
{
    private readonly Host _host;

    public BadInputTests(Host host) => _host = host;

    /// <summary>One extender for the class; a small body cap so "oversized" is cheap to send.</summary>
    public sealed class Host : IDisposable
    {
        public ExtenderFactory Factory { get; } = new(GoldenCluster.Objects(), new() { ["SchedExt:Extender:MaxRequestBodyBytes"] = "65536" });

        public void Dispose() => Factory.Dispose();
    }

    private const string GoodPod = """{"metadata":{"name":"p","namespace":"n","uid":"u"},"spec":{"containers":[{"name":"c","resources":{"limits":{"nvidia.com/gpu":"2"}}}]}}""";

    public static TheoryData<string, string, string> Bodies => new()
    {
        { "filter", "truncated object", """{"Pod":{"metadata":{"name":"p" """ },
        { "filter", "truncated array", """{"Pod":""" + GoodPod + ""","NodeNames":["a","b" """ },
        { "filter", "not JSON", "hello" },
        { "filter", "empty body", "" },
        { "filter", "JSON array root", "[]" },
        { "filter", "deeply nested", "{\"Pod\":" + string.Concat(Enumerable.Repeat("[", 5000)) + string.Concat(Enumerable.Repeat("]", 5000)) + "}" },
        { "filter", "NodeNames wrong type", """{"Pod":""" + GoodPod + ""","NodeNames":5}""" },
        { "filter", "NodeNames item wrong type", """{"Pod":""" + GoodPod + ""","NodeNames":[1]}""" },
        { "filter", "Pod wrong type", """{"Pod":"x","NodeNames":["a"]}""" },
        { "filter", "no pod", """{"NodeNames":["a"]}""" },
        { "filter", "no nodes at all", """{"Pod":""" + GoodPod + "}" },
        { "filter", "GPU quantity not a number", """{"Pod":{"metadata":{"name":"p"},"spec":{"containers":[{"resources":{"limits":{"nvidia.com/gpu":"two"}}}]}},"NodeNames":["dgx-free"]}""" },
        { "filter", "lone surrogate in the pod name", """{"Pod":{"metadata":{"name":"p\ud800","namespace":"n","uid":"u"},"spec":{"containers":[{"name":"c","resources":{"limits":{"nvidia.com/gpu":"2"}}}]}},"NodeNames":["dgx-free"]}""" },
        { "prioritize", "lone surrogate in an annotation", """{"Pod":{"metadata":{"name":"p","annotations":{"schedext.io/interconnect":"nv\udc00"}},"spec":{"containers":[{"name":"c","resources":{"limits":{"nvidia.com/gpu":"2"}}}]}},"NodeNames":["dgx-free"]}""" },
        { "filter", "lone surrogate in a node name", """{"Pod":""" + GoodPod + ""","NodeNames":["dgx-free","dgx\ud800"]}""" },
        { "prioritize", "lone surrogate in a node name", """{"Pod":""" + GoodPod + ""","NodeNames":["dgx\udc00"]}""" },
        { "bind", "lone surrogate in the pod name", """{"PodName":"p\ud800","PodNamespace":"n","PodUID":"u","Node":"dgx-free"}""" },
        { "filter", "trailing garbage", """{"Pod":""" + GoodPod + ""","NodeNames":["dgx-free"]} x""" },
        { "prioritize", "annotations wrong type", """{"Pod":{"metadata":{"name":"p","annotations":[]}},"NodeNames":["dgx-free"]}""" },
        { "bind", "missing Node", """{"PodName":"p","PodNamespace":"n","PodUID":"u"}""" },
        { "bind", "PodName wrong type", """{"PodName":1,"PodNamespace":"n","PodUID":"u","Node":"dgx-free"}""" },
        { "preempt", "victims wrong type", """{"Pod":""" + GoodPod + ""","NodeNameToMetaVictims":{"dgx-free":{"Pods":"x"}}}""" },
        { "preempt", "meta victim without UID", """{"Pod":""" + GoodPod + ""","NodeNameToMetaVictims":{"dgx-free":{"Pods":[{}]}}}""" },
        { "preempt", "negative PDB count", """{"Pod":""" + GoodPod + ""","NodeNameToMetaVictims":{"dgx-free":{"Pods":[],"NumPDBViolations":-1}}}""" },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task Verb_MalformedBody_Returns400WithReasonAndChangesNothing(string verb, string name, string body)
    {
        var before = _host.Factory.State.Current.Allocations.Count;
        var (status, text) = await _host.Factory.PostAsync(verb, body);
        Assert.True(status == 400, $"{name}: expected 400, got {status}: {text}");
        Assert.False(string.IsNullOrWhiteSpace(text), name);
        Assert.Equal(before, _host.Factory.State.Current.Allocations.Count);
    }

    [Fact]
    public async Task Filter_BodyOverLimit_Returns400NamingTheLimit()
    {
        var names = string.Join(',', Enumerable.Range(0, 10_000).Select(i => $"\"node-{i}\""));
        var (status, text) = await _host.Factory.PostAsync("filter", $$"""{"Pod":{{GoodPod}},"NodeNames":[{{names}}]}""");
        Assert.Equal(400, status);
        Assert.Contains("65536", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Filter_ChunkedBodyOverLimit_Returns400()
    {
        using var client = _host.Factory.CreateClient();
        await _host.Factory.WaitSyncedAsync();
        var names = string.Join(',', Enumerable.Range(0, 10_000).Select(i => $"\"n{i}\""));
        var payload = Encoding.UTF8.GetBytes("{\"Pod\":" + GoodPod + ",\"NodeNames\":[" + names + "]}");
        using var content = new StreamContent(new MemoryStream(payload));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/filter") { Content = content };
        request.Headers.TransferEncodingChunked = true;
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Bind_UnknownNode_ReturnsWellFormedErrorAndNoAllocation()
    {
        await _host.Factory.PostAsync("filter", $$"""{"Pod":{{GoodPod}},"NodeNames":["dgx-free"]}""");
        var (status, text) = await _host.Factory.PostAsync("bind", """{"PodName":"p","PodNamespace":"n","PodUID":"u","Node":"no-such-node"}""");
        Assert.Equal(200, status);
        Assert.Contains("no-such-node is not known", text, StringComparison.Ordinal);
        Assert.DoesNotContain(_host.Factory.State.Current.Allocations.Values, a => a.Uid == "u");
    }

    [Fact]
    public async Task Preempt_UnknownNode_IsDroppedNotAnError()
    {
        var (status, text) = await _host.Factory.PostAsync("preempt", "{\"Pod\":" + GoodPod + ""","NodeNameToMetaVictims":{"ghost":{"Pods":[{"UID":"x"}],"NumPDBViolations":0}}}""");
        Assert.Equal(200, status);
        Assert.Equal("""{"NodeNameToMetaVictims":{}}""", text);
    }
}
