using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SchedExt.Extender.Sources;
using SchedExt.Extender.State;

namespace SchedExt.Extender.Tests.Verbs;

/// <summary>
/// Filter and prioritize over real Kestrel on loopback with large replies (hundreds of KB, many pipe blocks), sent
/// with a Content-Length: every byte must arrive, the length must match and nothing may be chunked (the in-memory
/// test server checks none of this).
/// </summary>
public sealed class KestrelReplyTests : IAsyncLifetime
{
    private const string Pod = """{"metadata":{"name":"big","namespace":"ml","uid":"u-big","annotations":{"schedext.io/interconnect":"nvlink"}},"spec":{"containers":[{"name":"c","resources":{"limits":{"nvidia.com/gpu":"4"}}}]}}""";

    private WebApplication _app = null!;
    private Uri _address = null!;
    private string[] _known = [];

    public async Task InitializeAsync()
    {
        _app = ExtenderApp.Build(["--urls", "http://127.0.0.1:0"], builder =>
        {
            builder.Configuration["SchedExt:Extender:Demo"] = "true";
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
        });
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        _address = new Uri(address);
        var state = _app.Services.GetRequiredService<ClusterState>();
        for (var i = 0; i < 200 && !state.Current.Synced; i++)
        {
            await Task.Delay(25);
        }

        _known = DemoCluster.Build().Nodes.Select(n => n.Metadata.Name).ToArray();
        Assert.True(state.Current.Synced, "demo cluster not loaded");
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

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

    /// <summary>Unique names: the demo nodes first, then names the extender has never seen.</summary>
    private string[] Candidates(int count) =>
        _known.Concat(Enumerable.Range(0, Math.Max(0, count - _known.Length)).Select(i => $"gone-{i:D6}-rack-z")).Take(count).ToArray();

    /// <summary>Posts the candidates; the reply must be whole, unchunked and exactly as long as its Content-Length.</summary>
    private async Task<JsonNode> PostAsync(string verb, string[] names)
    {
        var body = $$"""{"Pod":{{Pod}},"NodeNames":[{{string.Join(',', names.Select(n => "\"" + n + "\""))}}]}""";
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var client = new HttpClient { BaseAddress = _address, Timeout = TimeSpan.FromSeconds(20) };
        using var response = await client.PostAsync("/" + verb, content);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Null(response.Headers.TransferEncodingChunked);
        var reply = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(response.Content.Headers.ContentLength, reply.Length);
        return JsonNode.Parse(reply)!;
    }
}
