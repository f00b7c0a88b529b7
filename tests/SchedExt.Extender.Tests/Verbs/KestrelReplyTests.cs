using System.Text;
using System.Text.Json.Nodes;
using SchedExt.Extender.Sources;

namespace SchedExt.Extender.Tests.Verbs;

/// <summary>
/// Filter and prioritize over real Kestrel on loopback with large replies (hundreds of KB, many pipe blocks), sent
/// with a Content-Length: every byte must arrive, the length must match and nothing may be chunked (the in-memory
/// test server checks none of this).
/// </summary>
public sealed class KestrelReplyTests : IDisposable
{
    private const string Pod = """{"metadata":{"name":"big","namespace":"ml","uid":"u-big","annotations":{"schedext.io/interconnect":"nvlink"}},"spec":{"containers":[{"name":"c","resources":{"limits":{"nvidia.com/gpu":"4"}}}]}}""";

    private readonly ExtenderFactory _factory;
    private readonly string[] _known;

    public KestrelReplyTests()
    {
        var demo = DemoCluster.Build();
        _known = demo.Nodes.Select(n => n.Metadata.Name).ToArray();
        _factory = new ExtenderFactory(demo.Nodes.Concat<object>(demo.Pods));
        _factory.UseKestrel(0);
    }

    public void Dispose() => _factory.Dispose();

    [Theory]
    [InlineData(1)]
    [InlineData(3_000)]
    [InlineData(12_000)]
    public async Task Filter_ManyCandidates_EveryNameOnceWithTheRightLength(int count)
    {
        var names = Candidates(count);
        var json = (await PostAsync("filter", names)).AsObject();
        var passing = json["NodeNames"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
        var failed = json["FailedNodes"]!.AsObject().Select(m => m.Key).ToList();
        var unresolvable = json["FailedAndUnresolvableNodes"]!.AsObject().Select(m => m.Key).ToList();
        Assert.Equal(names.OrderBy(n => n, StringComparer.Ordinal), passing.Concat(failed).Concat(unresolvable).OrderBy(n => n, StringComparer.Ordinal));
        Assert.All(names.Where(n => n.StartsWith("gone-", StringComparison.Ordinal)), n => Assert.Contains(n, failed));
        Assert.NotEmpty(passing);
        Assert.Equal(string.Empty, json["Error"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3_000)]
    [InlineData(12_000)]
    public async Task Prioritize_ManyCandidates_OneScorePerNameInOrder(int count)
    {
        var names = Candidates(count);
        var scores = (await PostAsync("prioritize", names)).AsArray();
        Assert.Equal(names, scores.Select(e => e!["Host"]!.GetValue<string>()));
        Assert.All(scores, e => Assert.InRange(e!["Score"]!.GetValue<int>(), 0, 10));
        Assert.Contains(scores, e => e!["Score"]!.GetValue<int>() > 0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Filter_CallerGoesAwayMidBody_CountedAs499(bool reset)
    {
        await _factory.WaitSyncedAsync();
        using var client = _factory.CreateClient();
        using (var socket = new System.Net.Sockets.TcpClient())
        {
            if (reset)
            {
                // Closed with a reset instead of a clean end, as a caller with unread data in its socket closes.
                socket.LingerState = new System.Net.Sockets.LingerOption(true, 0);
            }

            await socket.ConnectAsync(client.BaseAddress!.Host, client.BaseAddress.Port);
            var stream = socket.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes("POST /filter HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"Pod\":" + Pod + ",\"NodeNames\":[\"a\","));
            await stream.FlushAsync();
            await Task.Delay(200);
        }

        // The connection closed with most of the body unsent: no answer is possible, and it is not counted as one.
        var metrics = string.Empty;
        for (var i = 0; i < 1200 && !metrics.Contains("code=\"499\"", StringComparison.Ordinal); i++)
        {
            await Task.Delay(25);
            metrics = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        }

        Assert.Contains("schedext_extender_requests_total{verb=\"filter\",code=\"499\"} 1", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("verb=\"filter\",code=\"500\"", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("verb=\"filter\",code=\"200\"", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Filter_MalformedChunkedBody_Answers400FromTheServersReason()
    {
        await _factory.WaitSyncedAsync();
        using var client = _factory.CreateClient();
        using var socket = new System.Net.Sockets.TcpClient();
        await socket.ConnectAsync(client.BaseAddress!.Host, client.BaseAddress.Port);
        var stream = socket.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("POST /filter HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n{\"Pod\":{\r\nzz\r\n"));
        await stream.FlushAsync();

        // The caller is still there: it gets a 400 that says what was wrong, not a 500, and it is counted as one.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var reply = new StringBuilder();
        var buffer = new byte[4096];
        int read;
        while ((read = await stream.ReadAsync(buffer, cts.Token)) > 0)
        {
            reply.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        var text = reply.ToString();
        Assert.StartsWith("HTTP/1.1 400 ", text, StringComparison.Ordinal);
        Assert.Contains("chunk", text, StringComparison.OrdinalIgnoreCase);
        var metrics = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Contains("schedext_extender_requests_total{verb=\"filter\",code=\"400\"} 1", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("verb=\"filter\",code=\"500\"", metrics, StringComparison.Ordinal);
    }

    /// <summary>Unique names: the demo nodes first, then names the extender has never seen.</summary>
    private string[] Candidates(int count) =>
        _known.Concat(Enumerable.Range(0, Math.Max(0, count - _known.Length)).Select(i => $"gone-{i:D6}-rack-z")).Take(count).ToArray();

    /// <summary>Posts the candidates; the reply must be whole, unchunked and exactly as long as its Content-Length.</summary>
    private async Task<JsonNode> PostAsync(string verb, string[] names)
    {
        var body = $$"""{"Pod":{{Pod}},"NodeNames":[{{string.Join(',', names.Select(n => "\"" + n + "\""))}}]}""";
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        await _factory.WaitSyncedAsync();
        using var client = _factory.CreateClient();
        client.Timeout = TimeSpan.FromSeconds(20);
        using var response = await client.PostAsync("/" + verb, content);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Null(response.Headers.TransferEncodingChunked);
        var reply = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(response.Content.Headers.ContentLength, reply.Length);
        return JsonNode.Parse(reply)!;
    }
}
