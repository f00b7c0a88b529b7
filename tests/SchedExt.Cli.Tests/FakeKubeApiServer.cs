using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace SchedExt.Cli.Tests;

/// <summary>A few Node endpoints of the Kubernetes API on Kestrel at 127.0.0.1, recording every request, for the CLI's --apply.</summary>
public sealed class FakeKubeApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, JsonObject> _nodes = new(StringComparer.Ordinal);

    private FakeKubeApiServer(WebApplication app) => _app = app;

    /// <summary>Every request as "VERB path", in arrival order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Every PATCH: its content type and body.</summary>
    public ConcurrentQueue<(string ContentType, string Body)> Patches { get; } = new();

    /// <summary>When set, every request is answered with this status (e.g. 403) instead of being served.</summary>
    public int? FailWith { get; set; }

    public string Url { get; private set; } = string.Empty;

    public static async Task<FakeKubeApiServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new FakeKubeApiServer(app);
        app.MapGet("/api/v1/nodes/{name}", (string name, HttpContext context) => server.ServeAsync(context, "GET", name, null));
        app.MapMethods("/api/v1/nodes/{name}", ["PATCH"], async (string name, HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            await server.ServeAsync(context, "PATCH", name, body);
        });
        await app.StartAsync();
        server.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return server;
    }

    /// <summary>Adds a node, optionally with annotations.</summary>
    public void AddNode(string name, IReadOnlyDictionary<string, string>? annotations = null)
    {
        var meta = new JsonObject { ["name"] = name, ["resourceVersion"] = "1" };
        if (annotations is not null)
        {
            var map = new JsonObject();
            foreach (var (key, value) in annotations)
            {
                map[key] = value;
            }

            meta["annotations"] = map;
        }

        _nodes[name] = new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Node", ["metadata"] = meta };
    }

    /// <summary>The node's annotation, or null.</summary>
    public string? Annotation(string node, string key) => _nodes[node]["metadata"]?["annotations"]?[key]?.GetValue<string>();

    /// <summary>A kubeconfig file naming this server, written to <paramref name="directory"/>.</summary>
    public string WriteKubeconfig(string directory)
    {
        var path = Path.Combine(directory, "kubeconfig");
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
              - name: fake
                cluster:
                  server: {Url}
            users:
              - name: fake
                user:
                  token: test-token
            contexts:
              - name: fake
                context:
                  cluster: fake
                  user: fake
            current-context: fake
            """);
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task ServeAsync(HttpContext context, string verb, string name, string? patch)
    {
        Requests.Enqueue($"{verb} {context.Request.Path}");
        if (FailWith is { } code)
        {
            await WriteStatusAsync(context, code, "Forbidden", $"nodes \"{name}\" is forbidden");
            return;
        }

        if (!_nodes.TryGetValue(name, out var node))
        {
            await WriteStatusAsync(context, 404, "NotFound", $"nodes \"{name}\" not found");
            return;
        }

        if (patch is not null)
        {
            Patches.Enqueue((context.Request.ContentType ?? string.Empty, patch));
            var annotations = JsonNode.Parse(patch)?["metadata"]?["annotations"]?.AsObject();
            var meta = node["metadata"]!.AsObject();
            var target = meta["annotations"] as JsonObject ?? [];
            meta["annotations"] = target;
            foreach (var (key, value) in annotations ?? [])
            {
                target[key] = value?.DeepClone();
            }

            var version = int.Parse(meta["resourceVersion"]!.GetValue<string>(), CultureInfo.InvariantCulture) + 1;
            meta["resourceVersion"] = version.ToString(CultureInfo.InvariantCulture);
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(node.ToJsonString());
    }

    private static Task WriteStatusAsync(HttpContext context, int code, string reason, string message)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        var status = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Status",
            ["status"] = "Failure",
            ["reason"] = reason,
            ["message"] = message,
            ["code"] = code,
        };
        return context.Response.WriteAsync(status.ToJsonString());
    }
}
