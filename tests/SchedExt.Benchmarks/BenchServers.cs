using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SchedExt.Extender;
using SchedExt.Extender.State;

namespace SchedExt.Benchmarks;

/// <summary>
/// The servers the HTTP benchmarks talk to, in this process on loopback: the real extender (built by
/// <see cref="ExtenderApp"/> over the 5,000-node snapshot file) and a second minimal Kestrel app with the echo floor
/// (<c>/echo/{verb}/{n}</c>: drains the body, writes the extender's own reply for that request, byte for byte) and the
/// straightforward implementation (<c>/naive/{verb}</c>), plus <c>/alloc</c> (the process's allocated bytes).
/// </summary>
internal sealed class BenchServers : IAsyncDisposable
{
    public static readonly IReadOnlyList<string> Verbs = ["filter", "prioritize"];

    private readonly WebApplication _extender;
    private readonly WebApplication _aux;

    private BenchServers(WebApplication extender, WebApplication aux)
    {
        _extender = extender;
        _aux = aux;
        ExtenderUri = AddressOf(extender);
        AuxUri = AddressOf(aux);
    }

    /// <summary>The one client of every benchmark: HTTP/1.1 with keep-alive, one pooled connection per server.</summary>
    public HttpClient Client { get; } = new(new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan });

    public Uri ExtenderUri { get; }

    public Uri AuxUri { get; }

    /// <summary>The extender's services (for the allocation profile).</summary>
    public IServiceProvider ExtenderServices => _extender.Services;

    public static async Task<BenchServers> StartAsync()
    {
        var snapshot = ExtenderWorkload.SnapshotFile();
        var extender = ExtenderApp.Build(["--urls", "http://127.0.0.1:0"], builder =>
        {
            builder.Configuration["SchedExt:Extender:SnapshotFile"] = snapshot;

            // Both apps log at Warning: per-request Information lines would measure the console, not the code.
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
        });
        await extender.StartAsync();
        var state = extender.Services.GetRequiredService<ClusterState>();
        if (!state.Current.Synced || state.Current.Nodes.Count != ExtenderWorkload.ClusterNodes)
        {
            throw new InvalidOperationException($"extender loaded {state.Current.Nodes.Count} nodes from {snapshot}, expected {ExtenderWorkload.ClusterNodes}");
        }

        var replies = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var aux = BuildAux(extender.Services, replies);
        await aux.StartAsync();
        var servers = new BenchServers(extender, aux);

        // The echo endpoint answers with exactly what the extender answers, so both write the same bytes.
        using var client = new HttpClient();
        foreach (var n in ExtenderWorkload.CandidateCounts)
        {
            var body = ExtenderWorkload.ArgsBody(n);
            foreach (var verb in Verbs)
            {
                using var content = Json(body);
                using var response = await client.PostAsync(new Uri(servers.ExtenderUri, verb), content);
                response.EnsureSuccessStatusCode();
                replies[EchoPath(verb, n)] = await response.Content.ReadAsByteArrayAsync();
            }
        }

        return servers;
    }

    public static string EchoPath(string verb, int candidates) => $"/echo/{verb}/{candidates}";

    /// <summary>The three endpoints of one verb and request size: [echo floor, extender, straightforward].</summary>
    public Uri[] Targets(string verb, int candidates) =>
        [new Uri(AuxUri, EchoPath(verb, candidates).TrimStart('/')), new Uri(ExtenderUri, verb), new Uri(AuxUri, "naive/" + verb)];

    /// <summary>One POST over the client's kept-alive connection; the reply is read to the end into <paramref name="sink"/>.</summary>
    public static async Task<long> PostAsync(HttpClient client, Uri uri, byte[] body, byte[] sink)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = Json(body) };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{uri} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }

        await using var stream = await response.Content.ReadAsStreamAsync();
        long total = 0;
        int read;
        while ((read = await stream.ReadAsync(sink)) > 0)
        {
            total += read;
        }

        return total;
    }

    public static ByteArrayContent Json(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _aux.StopAsync();
        await _extender.StopAsync();
        await _aux.DisposeAsync();
        await _extender.DisposeAsync();
    }

    private static WebApplication BuildAux(IServiceProvider extenderServices, Dictionary<string, byte[]> replies)
    {
        var builder = WebApplication.CreateSlimBuilder(["--urls", "http://127.0.0.1:0"]);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = null;
            k.AddServerHeader = false;
        });
        var app = builder.Build();
        foreach (var n in ExtenderWorkload.CandidateCounts)
        {
            foreach (var verb in Verbs)
            {
                var path = EchoPath(verb, n);
                app.MapPost(path, context => EchoAsync(context, replies[path]));
            }
        }

        var naive = ActivatorUtilities.CreateInstance<NaiveExtender>(extenderServices);
        app.MapPost("/naive/filter", naive.FilterAsync);
        app.MapPost("/naive/prioritize", naive.PrioritizeAsync);
        app.MapGet("/alloc", context => context.Response.WriteAsync(GC.GetTotalAllocatedBytes(precise: true).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        return app;
    }

    /// <summary>The floor: read the whole body (without copying it), write a reply of the extender's size.</summary>
    private static async Task EchoAsync(HttpContext context, byte[] reply)
    {
        var reader = context.Request.BodyReader;
        while (true)
        {
            var result = await reader.ReadAsync(context.RequestAborted);
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        context.Response.ContentType = "application/json";
        context.Response.ContentLength = reply.Length;
        await context.Response.BodyWriter.WriteAsync(reply, context.RequestAborted);
    }

    private static Uri AddressOf(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        return new Uri(addresses.Single().TrimEnd('/') + "/");
    }
}
