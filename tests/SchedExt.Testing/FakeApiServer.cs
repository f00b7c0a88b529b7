using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SchedExt.Testing.FakeApi;

namespace SchedExt.Testing;

/// <summary>
/// An in-process Kubernetes API server for tests (Kestrel on 127.0.0.1, random port) holding Nodes, Pods, Leases,
/// Events (core/v1 and events.k8s.io/v1) and pod Bindings, with the real server's semantics for what SchedExt uses:
/// resourceVersions, list (paged by limit/continue from one snapshot), watch (with bookmarks and 410 Gone past the
/// history window), field selectors on pods, label selectors, create-if-absent, delete preconditions,
/// merge/strategic-merge/JSON patches, and binding conflicts. Thread-safe.
/// </summary>
public sealed class FakeApiServer : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Compact = new() { WriteIndented = false };

    private readonly WebApplication _app;
    private readonly ObjectStore _store;
    private readonly ListPager _pages;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, int> _requests = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentQueue<Injection>> _failures = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _requestLog = new();
    private readonly ConcurrentQueue<(string Key, string ContentType, string Body)> _patches = new();

    // Ends open watches on dispose: Kestrel's graceful stop would otherwise wait for every watch to time out.
    private readonly CancellationTokenSource _shutdown = new();

    private FakeApiServer(WebApplication app, ObjectStore store, TimeProvider time)
    {
        _app = app;
        _store = store;
        _pages = new ListPager(store);
        _time = time;
    }

    /// <summary>Base address, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string Url { get; private set; } = string.Empty;

    /// <summary>How often an idle watch that asked for bookmarks gets one.</summary>
    public TimeSpan BookmarkInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a watch stays open when the client gives no <c>timeoutSeconds</c>.</summary>
    public TimeSpan DefaultWatchTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How many changes are kept for watches; a watch from an older resourceVersion gets 410 Gone.</summary>
    public int HistoryLimit
    {
        get => _store.HistoryLimit;
        set => _store.HistoryLimit = value;
    }

    /// <summary>The latest resourceVersion.</summary>
    public long ResourceVersion => _store.Version;

    /// <summary>Pods bound through the binding subresource so far.</summary>
    public int BindingsCreated => Requests("POST pods/binding") - _bindingFailures;

    private int _bindingFailures;

    /// <summary>Starts a server on a random loopback port.</summary>
    public static async Task<FakeApiServer> StartAsync(TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new FakeApiServer(app, new ObjectStore(time), time);
        app.Run(server.HandleAsync);
        await app.StartAsync().ConfigureAwait(false);
        server.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return server;
    }

    /// <summary>A client for this server.</summary>
    public Kubernetes CreateClient() => new(new KubernetesClientConfiguration { Host = Url });

    /// <summary>A client whose non-watch requests give up after <paramref name="timeout"/> (the client's default is 100 s).</summary>
    public Kubernetes CreateClient(TimeSpan timeout) => new(new KubernetesClientConfiguration { Host = Url, HttpClientTimeout = timeout });

    /// <summary>Writes a kubeconfig naming this server (current context, a bearer token the fake ignores) to <paramref name="directory"/>; returns its path.</summary>
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
                  token: fake-token
            contexts:
              - name: fake
                context:
                  cluster: fake
                  user: fake
            current-context: fake
            """);
        return path;
    }

    /// <summary>How many requests matched <paramref name="key"/>: <c>"{VERB} {resource}[/{subresource}]"</c> with verb LIST, WATCH, GET, POST, PUT, PATCH or DELETE, e.g. <c>"POST pods/binding"</c>, <c>"WATCH nodes"</c>, <c>"POST leases.coordination.k8s.io"</c>.</summary>
    public int Requests(string key) => _requests.GetValueOrDefault(key);

    /// <summary>Every request counter.</summary>
    public IReadOnlyDictionary<string, int> RequestCounts => new Dictionary<string, int>(_requests, StringComparer.Ordinal);

    /// <summary>Every request as <c>"{METHOD} {path}"</c> without the query, e.g. <c>"PATCH /api/v1/nodes/gpu-1"</c>, in arrival order, injected failures included.</summary>
    public IReadOnlyList<string> RequestLog => [.. _requestLog];

    /// <summary>
    /// The raw body and Content-Type header of every PATCH matching <paramref name="key"/> (see <see cref="Requests"/>, e.g. <c>"PATCH nodes"</c>),
    /// in arrival order, rejected ones included; a PATCH answered by <see cref="FailNext"/> is not read and not listed.
    /// </summary>
    public IReadOnlyList<(string ContentType, string Body)> Patches(string key) =>
        [.. _patches.Where(p => p.Key == key).Select(p => (p.ContentType, p.Body))];

    /// <summary>
    /// Answers the next <paramref name="count"/> requests matching <paramref name="key"/> (see <see cref="Requests"/>)
    /// with <paramref name="status"/>, after letting <paramref name="afterPassing"/> of them through as usual.
    /// </summary>
    public void FailNext(string key, int count = 1, HttpStatusCode status = HttpStatusCode.InternalServerError, int afterPassing = 0)
    {
        Enqueue(key, new Injection(InjectionKind.Pass, 0), afterPassing);
        Enqueue(key, new Injection(InjectionKind.Fail, status), count);
    }

    /// <summary>
    /// Carries out the next <paramref name="count"/> requests matching <paramref name="key"/> (other than WATCH) as usual
    /// but answers each with <paramref name="status"/> instead of its result: the change is made and the client is told
    /// it failed, as when the reply is lost or the API server times out after storing it.
    /// </summary>
    public void FailNextAfterApplying(string key, int count = 1, HttpStatusCode status = HttpStatusCode.GatewayTimeout) =>
        Enqueue(key, new Injection(InjectionKind.FailAfterApplying, status), count);

    /// <summary>
    /// Accepts the next <paramref name="count"/> requests matching <paramref name="key"/> and never answers them: the
    /// client's own timeout ends them (or the server's shutdown), as with an API server that stalls.
    /// </summary>
    public void HangNext(string key, int count = 1) => Enqueue(key, new Injection(InjectionKind.Hang, 0), count);

    /// <summary>
    /// Carries out the next <paramref name="count"/> requests matching <paramref name="key"/> (other than WATCH) as usual
    /// and never answers them: the change is stored while the client waits until its own deadline ends the request.
    /// </summary>
    public void HangNextAfterApplying(string key, int count = 1) => Enqueue(key, new Injection(InjectionKind.HangAfterApplying, 0), count);

    private void Enqueue(string key, Injection injection, int count)
    {
        var queue = _failures.GetOrAdd(key, _ => new ConcurrentQueue<Injection>());
        for (var i = 0; i < count; i++)
        {
            queue.Enqueue(injection);
        }
    }

    /// <summary>What happens to one request matching a queued key.</summary>
    private enum InjectionKind
    {
        /// <summary>Through as usual (see <see cref="FailNext"/>'s afterPassing).</summary>
        Pass,

        /// <summary>Answered with the status, not carried out (see <see cref="FailNext"/>).</summary>
        Fail,

        /// <summary>Carried out, then answered with the status (see <see cref="FailNextAfterApplying"/>).</summary>
        FailAfterApplying,

        /// <summary>Never answered (see <see cref="HangNext"/>).</summary>
        Hang,

        /// <summary>Carried out, then never answered (see <see cref="HangNextAfterApplying"/>).</summary>
        HangAfterApplying,
    }

    private readonly record struct Injection(InjectionKind Kind, HttpStatusCode Status);

    /// <summary>Drops every queued <see cref="FailNext"/> failure.</summary>
    public void ClearFailures() => _failures.Clear();

    /// <summary>
    /// Forgets the watch history: a <em>new</em> watch from an older resourceVersion now gets 410 Gone. Watches already
    /// open keep streaming; end them with <see cref="CloseWatches"/>.
    /// </summary>
    public void ExpireWatchHistory() => _store.Compact();

    /// <summary>
    /// Ends every open watch's stream after the changes already made (as a restarting API server or its re-initialized
    /// watch cache does); returns how many ended. Clients then watch again from their last resourceVersion, or list.
    /// </summary>
    public int CloseWatches() => _store.CloseWatches();

    /// <summary>How many watches of <paramref name="resource"/> (e.g. <c>"nodes"</c>, <c>"leases.coordination.k8s.io"</c>) are open now.</summary>
    public int OpenWatches(string resource) =>
        _store.OpenWatches(ResourceType.All.FirstOrDefault(t => t.Qualified == resource) ?? throw new ArgumentException($"the fake stores no {resource}", nameof(resource)));

    public V1Node PutNode(V1Node node) => Put<V1Node>(ResourceType.Nodes, node);

    public V1Pod PutPod(V1Pod pod) => Put<V1Pod>(ResourceType.Pods, pod);

    public V1Lease PutLease(V1Lease lease) => Put<V1Lease>(ResourceType.Leases, lease);

    /// <summary>Stores a Namespace (list and watch only: <c>/api/v1/namespaces/{name}</c> reads as a namespaced path).</summary>
    public V1Namespace PutNamespace(V1Namespace ns) => Put<V1Namespace>(ResourceType.Namespaces, ns);

    public void DeleteNode(string name) => _store.Delete(ResourceType.Nodes, string.Empty, name);

    public void DeletePod(string ns, string name) => _store.Delete(ResourceType.Pods, ns, name);

    /// <summary>Changes a stored pod in place (emits MODIFIED).</summary>
    public V1Pod ModifyPod(string ns, string name, Action<V1Pod> change) => Modify(ResourceType.Pods, ns, name, change);

    /// <summary>Changes a stored node in place (emits MODIFIED).</summary>
    public V1Node ModifyNode(string name, Action<V1Node> change) => Modify(ResourceType.Nodes, string.Empty, name, change);

    public V1Node? GetNode(string name) => Typed<V1Node>(_store.Get(ResourceType.Nodes, string.Empty, name));

    public V1Pod? GetPod(string ns, string name) => Typed<V1Pod>(_store.Get(ResourceType.Pods, ns, name));

    public V1Lease? GetLease(string ns, string name) => Typed<V1Lease>(_store.Get(ResourceType.Leases, ns, name));

    public IReadOnlyList<V1Node> Nodes() => All<V1Node>(ResourceType.Nodes);

    public IReadOnlyList<V1Pod> Pods() => All<V1Pod>(ResourceType.Pods);

    public IReadOnlyList<V1Lease> Leases() => All<V1Lease>(ResourceType.Leases);

    /// <summary>core/v1 Events.</summary>
    public IReadOnlyList<Corev1Event> CoreEvents() => All<Corev1Event>(ResourceType.CoreEvents);

    /// <summary>events.k8s.io/v1 Events.</summary>
    public IReadOnlyList<Eventsv1Event> Events() => All<Eventsv1Event>(ResourceType.Events);

    public async ValueTask DisposeAsync()
    {
        await _shutdown.CancelAsync().ConfigureAwait(false);
        await _app.StopAsync().ConfigureAwait(false);
        _shutdown.Dispose();
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private T Put<T>(ResourceType type, T obj) => Typed<T>(_store.Put(type, ToJson(obj)))!;

    private T Modify<T>(ResourceType type, string ns, string name, Action<T> change) =>
        Typed<T>(_store.Update(type, ns, name, current =>
        {
            var typed = Typed<T>(current)!;
            change(typed);
            return ToJson(typed);
        }))!;

    private List<T> All<T>(ResourceType type) => [.. _store.List(type, null, FieldSelector.Everything, out _).Select(o => Typed<T>(o)!)];

    private static JsonObject ToJson<T>(T obj) => JsonNode.Parse(KubernetesJson.Serialize(obj))!.AsObject();

    private static T? Typed<T>(JsonObject? obj) => obj is null ? default : KubernetesJson.Deserialize<T>(obj.ToJsonString(Compact));

    private async Task HandleAsync(HttpContext context)
    {
        _requestLog.Enqueue($"{context.Request.Method} {context.Request.Path}");
        try
        {
            await RouteAsync(context).ConfigureAwait(false);
        }
        catch (ApiErrorException e)
        {
            await WriteStatusAsync(context, e.Code, e.Reason, e.Message).ConfigureAwait(false);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            var (code, reason) = e is InvalidOperationException ? (422, "Invalid") : (400, "BadRequest");
            await WriteStatusAsync(context, code, reason, e.Message).ConfigureAwait(false);
        }
    }

    private async Task RouteAsync(HttpContext context)
    {
        var request = context.Request;
        var parts = request.Path.Value!.Split('/', StringSplitOptions.RemoveEmptyEntries);
        int rest;
        string group, version;
        if (parts.Length >= 2 && parts[0] == "api")
        {
            (group, version, rest) = (string.Empty, parts[1], 2);
        }
        else if (parts.Length >= 3 && parts[0] == "apis")
        {
            (group, version, rest) = (parts[1], parts[2], 3);
        }
        else
        {
            throw new ApiErrorException(404, "NotFound", $"the server could not find the requested resource {request.Path}");
        }

        var path = parts[rest..];
        string? ns = null;
        if (path.Length >= 2 && path[0] == "namespaces")
        {
            ns = path[1];
            path = path[2..];
        }

        if (path.Length == 1 && path[0] == "bindings" && ns is not null && group.Length == 0)
        {
            await CountAndFailAsync(context, "POST pods/binding").ConfigureAwait(false);
            if (!context.Response.HasStarted)
            {
                await BindAsync(context, ns, null).ConfigureAwait(false);
            }

            return;
        }

        var type = path.Length is >= 1 and <= 3 ? ResourceType.Find(group, version, path[0]) : null;
        if (type is null || (type.Namespaced && ns is null && path.Length > 1) || (!type.Namespaced && ns is not null))
        {
            throw new ApiErrorException(404, "NotFound", $"the server could not find the requested resource {request.Path}");
        }

        var name = path.Length >= 2 ? path[1] : null;
        var subresource = path.Length == 3 ? path[2] : null;
        var watch = IsTrue(request.Query["watch"]);
        var verb = (request.Method, name, watch) switch
        {
            ("GET", null, true) => "WATCH",
            ("GET", null, false) => "LIST",
            var (m, _, _) => m,
        };
        var key = $"{verb} {type.Qualified}{(subresource is null ? string.Empty : "/" + subresource)}";
        if (await CountAndFailAsync(context, key).ConfigureAwait(false))
        {
            return;
        }

        var scope = type.Namespaced ? ns ?? string.Empty : string.Empty;
        switch (verb, subresource)
        {
            case ("WATCH", null):
                await WatchAsync(context, type, ns).ConfigureAwait(false);
                break;
            case ("LIST", null):
                var page = _pages.Next(request.Query["continue"], request.Query["limit"], () =>
                {
                    var items = _store.List(type, ns, FieldSelector.Parse(request.Query["fieldSelector"], type), LabelSelector.Parse(request.Query["labelSelector"]), out var listVersion);
                    return new ListPage(items, listVersion, null);
                });
                var metadata = new JsonObject { ["resourceVersion"] = page.Version.ToString(CultureInfo.InvariantCulture) };
                if (page.Continue is not null)
                {
                    metadata["continue"] = page.Continue;
                }

                var list = new JsonObject
                {
                    ["kind"] = type.Kind + "List",
                    ["apiVersion"] = type.ApiVersion,
                    ["metadata"] = metadata,
                    ["items"] = new JsonArray([.. page.Items]),
                };
                await WriteAsync(context, 200, list).ConfigureAwait(false);
                break;
            case ("POST", null) when name is null:
                await WriteAsync(context, 201, _store.Create(type, scope, await ReadObjectAsync(context).ConfigureAwait(false))).ConfigureAwait(false);
                break;
            case ("POST", "binding") when type == ResourceType.Pods:
                await BindAsync(context, scope, name).ConfigureAwait(false);
                break;
            case ("GET", null or "status") when name is not null:
                await WriteAsync(context, 200, _store.Get(type, scope, name) ?? throw new ApiErrorException(404, "NotFound", $"{type.Qualified} \"{name}\" not found")).ConfigureAwait(false);
                break;
            case ("PUT", null or "status") when name is not null:
                var replacement = await ReadObjectAsync(context).ConfigureAwait(false);
                await WriteAsync(context, 200, _store.Update(type, scope, name, current =>
                {
                    CheckVersion(type, name, ObjectStore.VersionOf(replacement), current);
                    return replacement;
                })).ConfigureAwait(false);
                break;
            case ("PATCH", null or "status") when name is not null:
                var raw = await new StreamReader(request.Body, Encoding.UTF8).ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
                _patches.Enqueue((key, request.ContentType ?? string.Empty, raw));

                // The media type is checked before the body is parsed, as on the real server, so a type the fake does not model (server-side apply's YAML) is 415, not 400.
                var contentType = request.ContentType?.Split(';')[0].Trim();
                Func<JsonNode, JsonNode, JsonNode?> apply = contentType switch
                {
                    "application/json-patch+json" => static (target, operations) => JsonPatching.Apply(target, operations as JsonArray ?? throw new FormatException("a JSON patch is an array")),
                    "application/merge-patch+json" or "application/strategic-merge-patch+json" => JsonPatching.Merge,
                    _ => throw new ApiErrorException(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json; got {contentType}"),
                };
                var patch = JsonNode.Parse(raw) ?? throw new FormatException("empty patch");
                await WriteAsync(context, 200, _store.Update(type, scope, name, current =>
                {
                    var patched = apply(current, patch) as JsonObject ?? throw new InvalidOperationException("the patch does not leave an object");

                    // A patch that names a resourceVersion is a precondition, as on the real server.
                    CheckVersion(type, name, ObjectStore.VersionOf(patched), current);
                    return patched;
                })).ConfigureAwait(false);
                break;
            case ("DELETE", null) when name is not null:
                var options = request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0
                    ? await JsonNode.ParseAsync(request.Body).ConfigureAwait(false)
                    : null;
                var deleted = _store.Delete(type, scope, name, current => CheckPreconditions(type, name, options?["preconditions"], current));
                if (type == ResourceType.Pods)
                {
                    await WriteAsync(context, 200, deleted).ConfigureAwait(false);
                }
                else
                {
                    await WriteStatusAsync(context, 200, null, null, name, type).ConfigureAwait(false);
                }

                break;
            default:
                throw new ApiErrorException(405, "MethodNotAllowed", $"{request.Method} is not supported on {request.Path}");
        }
    }

    /// <summary>
    /// Counts the request; answers it with an injected failure and returns true when one is queued. A failure after
    /// applying is only noted here (false): <see cref="WriteAsync"/> puts it in place of the request's own answer.
    /// </summary>
    private async Task<bool> CountAndFailAsync(HttpContext context, string key)
    {
        _requests.AddOrUpdate(key, 1, (_, n) => n + 1);
        if (!_failures.TryGetValue(key, out var queue) || !queue.TryDequeue(out var injection))
        {
            return false;
        }

        switch (injection.Kind)
        {
            case InjectionKind.Pass:
                return false;
            case InjectionKind.FailAfterApplying or InjectionKind.HangAfterApplying:
                context.Items[typeof(Injection)] = injection;
                return false;
            case InjectionKind.Hang:
                await HangAsync(context).ConfigureAwait(false);
                return true;
            default:
                if (key == "POST pods/binding")
                {
                    Interlocked.Increment(ref _bindingFailures);
                }

                await WriteStatusAsync(context, (int)injection.Status, injection.Status.ToString(), "injected failure").ConfigureAwait(false);
                return true;
        }
    }

    /// <summary>
    /// POST pods/{name}/binding (or namespaces/{ns}/bindings): sets spec.nodeName and copies the binding's annotations
    /// onto the pod, like the real registry. Already assigned (to any node) or a different UID is 409 Conflict.
    /// </summary>
    private async Task BindAsync(HttpContext context, string ns, string? podName)
    {
        var binding = await ReadObjectAsync(context).ConfigureAwait(false);
        podName ??= ObjectStore.NameOf(binding);
        var node = binding["target"]?["name"]?.GetValue<string>();
        if (string.IsNullOrEmpty(node))
        {
            Interlocked.Increment(ref _bindingFailures);
            throw new ApiErrorException(422, "Invalid", $"Binding \"{podName}\" is invalid: target.name: Required value");
        }

        try
        {
            _store.Update(ResourceType.Pods, ns, podName, pod =>
            {
                var conflict = $"Operation cannot be fulfilled on pods/binding \"{podName}\": ";
                var uid = binding["metadata"]?["uid"]?.GetValue<string>();
                if (!string.IsNullOrEmpty(uid) && uid != pod["metadata"]?["uid"]?.GetValue<string>())
                {
                    throw new ApiErrorException(409, "Conflict", conflict + $"Precondition failed: UID in precondition: {uid}, UID in object meta: {pod["metadata"]?["uid"]}");
                }

                if (pod["metadata"]?["deletionTimestamp"] is not null)
                {
                    throw new ApiErrorException(409, "Conflict", conflict + $"pod {podName} is being deleted, cannot be assigned to a host");
                }

                if (pod["spec"]?["nodeName"]?.GetValue<string>() is { Length: > 0 } assigned)
                {
                    throw new ApiErrorException(409, "Conflict", conflict + $"pod {podName} is already assigned to node \"{assigned}\"");
                }

                if (pod["spec"] is not JsonObject spec)
                {
                    pod["spec"] = spec = [];
                }

                spec["nodeName"] = node;
                if (binding["metadata"]?["annotations"] is JsonObject annotations)
                {
                    if (pod["metadata"]!["annotations"] is not JsonObject podAnnotations)
                    {
                        pod["metadata"]!["annotations"] = podAnnotations = [];
                    }

                    foreach (var (k, v) in annotations)
                    {
                        podAnnotations[k] = v?.DeepClone();
                    }
                }

                return pod;
            });
        }
        catch (ApiErrorException)
        {
            Interlocked.Increment(ref _bindingFailures);
            throw;
        }

        await WriteStatusAsync(context, 201, null, null).ConfigureAwait(false);
    }

    private async Task WatchAsync(HttpContext context, ResourceType type, string? ns)
    {
        var query = context.Request.Query;
        var selector = FieldSelector.Parse(query["fieldSelector"], type);
        var labels = LabelSelector.Parse(query["labelSelector"]);
        var bookmarks = IsTrue(query["allowWatchBookmarks"]);
        var timeout = int.TryParse(query["timeoutSeconds"], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds)
            : DefaultWatchTimeout;

        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        var opened = _store.Watch(type, ns, query["resourceVersion"]);
        if (opened is not { } watch)
        {
            // The real server answers a watch from a compacted version with 200 and one ERROR event, then closes.
            var status = StatusObject(410, "Expired", $"too old resource version: {query["resourceVersion"]} ({_store.Version})");
            await WriteEventAsync(context, "ERROR", status).ConfigureAwait(false);
            return;
        }

        using var expiry = new CancellationTokenSource(timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(expiry.Token, context.RequestAborted, _shutdown.Token);
        var ct = linked.Token;
        try
        {
            await context.Response.StartAsync(ct).ConfigureAwait(false);
            foreach (var change in watch.Backlog)
            {
                await SendAsync(context, change, selector, labels).ConfigureAwait(false);
            }

            var reader = watch.Watcher.Events.Reader;
            Task<bool>? pending = null;
            while (!ct.IsCancellationRequested)
            {
                pending ??= reader.WaitToReadAsync(ct).AsTask();
                var tick = Task.Delay(BookmarkInterval, _time, ct);
                if (await Task.WhenAny(pending, tick).ConfigureAwait(false) == pending)
                {
                    if (!await pending.ConfigureAwait(false))
                    {
                        break;
                    }

                    pending = null;
                    while (reader.TryRead(out var change))
                    {
                        await SendAsync(context, change, selector, labels).ConfigureAwait(false);
                    }
                }
                else if (bookmarks && !ct.IsCancellationRequested && _store.BookmarkVersion(watch.Watcher) is { } at)
                {
                    var bookmark = new JsonObject
                    {
                        ["kind"] = type.Kind,
                        ["apiVersion"] = type.ApiVersion,
                        ["metadata"] = new JsonObject { ["resourceVersion"] = at.ToString(CultureInfo.InvariantCulture) },
                    };
                    await WriteEventAsync(context, "BOOKMARK", bookmark).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Timeout (the stream simply ends, as on the real server) or the client went away.
        }
        finally
        {
            _store.Unwatch(watch.Watcher);
        }
    }

    /// <summary>Sends a change as the watch sees it through its field selector: entering it is ADDED, leaving it DELETED.</summary>
    private static Task SendAsync(HttpContext context, Change change, FieldSelector selector, LabelSelector labels)
    {
        var now = selector.Matches(change.Object) && labels.Matches(change.Object);
        var before = change.Old is not null && selector.Matches(change.Old) && labels.Matches(change.Old);
        var type = change.EventType switch
        {
            "ADDED" when now => "ADDED",
            "MODIFIED" when now && before => "MODIFIED",
            "MODIFIED" when now => "ADDED",
            "MODIFIED" when before => "DELETED",
            "DELETED" when before => "DELETED",
            _ => null,
        };
        return type is null ? Task.CompletedTask : WriteEventAsync(context, type, change.Object);
    }

    private static async Task WriteEventAsync(HttpContext context, string type, JsonObject obj)
    {
        var line = new JsonObject { ["type"] = type, ["object"] = obj.DeepClone() }.ToJsonString(Compact) + "\n";
        await context.Response.WriteAsync(line, context.RequestAborted).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Go's strconv.ParseBool, which the API server uses for boolean query parameters.</summary>
    private static bool IsTrue(string? value) => value is "1" or "t" or "T" or "true" or "TRUE" or "True";

    private static void CheckVersion(ResourceType type, string name, string? expected, JsonObject current)
    {
        if (!string.IsNullOrEmpty(expected) && expected != ObjectStore.VersionOf(current))
        {
            throw new ApiErrorException(409, "Conflict", $"Operation cannot be fulfilled on {type.Qualified} \"{name}\": the object has been modified; please apply your changes to the latest version and try again");
        }
    }

    private static void CheckPreconditions(ResourceType type, string name, JsonNode? preconditions, JsonObject current)
    {
        var uid = preconditions?["uid"]?.GetValue<string>();
        if (!string.IsNullOrEmpty(uid) && uid != current["metadata"]?["uid"]?.GetValue<string>())
        {
            throw new ApiErrorException(409, "Conflict", $"Operation cannot be fulfilled on {type.Qualified} \"{name}\": Precondition failed: UID in precondition: {uid}, UID in object meta: {current["metadata"]?["uid"]}");
        }

        var version = preconditions?["resourceVersion"]?.GetValue<string>();
        if (!string.IsNullOrEmpty(version) && version != ObjectStore.VersionOf(current))
        {
            throw new ApiErrorException(409, "Conflict", $"Operation cannot be fulfilled on {type.Qualified} \"{name}\": Precondition failed: ResourceVersion in precondition: {version}, ResourceVersion in object meta: {ObjectStore.VersionOf(current)}");
        }
    }

    private static async Task<JsonObject> ReadObjectAsync(HttpContext context) =>
        await JsonNode.ParseAsync(context.Request.Body).ConfigureAwait(false) as JsonObject ?? throw new FormatException("the body must be a JSON object");

    private static JsonObject StatusObject(int code, string? reason, string? message, string? name = null, ResourceType? type = null)
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = code < 300 ? "Success" : "Failure",
        };
        if (message is not null)
        {
            status["message"] = message;
        }

        if (reason is not null)
        {
            status["reason"] = reason;
        }

        if (name is not null)
        {
            status["details"] = new JsonObject { ["name"] = name, ["kind"] = type?.Plural };
        }

        status["code"] = code;
        return status;
    }

    /// <summary>Until the client gives up and closes the connection, or the server stops.</summary>
    private static Task HangAsync(HttpContext context) =>
        Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(static _ => { }, TaskScheduler.Default);

    private static Task WriteStatusAsync(HttpContext context, int code, string? reason, string? message, string? name = null, ResourceType? type = null) =>
        WriteAsync(context, code, StatusObject(code, reason, message, name, type));

    private static async Task WriteAsync(HttpContext context, int code, JsonObject body)
    {
        if (context.Response.HasStarted)
        {
            return;
        }

        if (context.Items.TryGetValue(typeof(Injection), out var after) && after is Injection { Kind: InjectionKind.HangAfterApplying })
        {
            context.Items.Remove(typeof(Injection));
            await HangAsync(context).ConfigureAwait(false);
            return;
        }

        if (context.Items.TryGetValue(typeof(Injection), out var noted) && noted is Injection { Status: var status })
        {
            // The request was carried out (or refused) as usual; the client hears only the injected failure.
            context.Items.Remove(typeof(Injection));
            (code, body) = ((int)status, StatusObject((int)status, status.ToString(), "injected failure after applying the request"));
        }

        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(Compact), Encoding.UTF8, context.RequestAborted).ConfigureAwait(false);
    }
}
