using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace SchedExt.Testing.FakeApi;

/// <summary>An API error answered as a <c>Status</c> object: <paramref name="Code"/>, <paramref name="Reason"/> (e.g. <c>Conflict</c>) and a message.</summary>
internal sealed class ApiErrorException(int code, string reason, string message) : Exception(message)
{
    public int Code { get; } = code;

    public string Reason { get; } = reason;
}

/// <summary>One change to one object, as kept in the watch history.</summary>
internal sealed record Change(long Version, ResourceType Type, string EventType, JsonObject? Old, JsonObject Object);

/// <summary>An open watch: receives every change of its resource type (and namespace) in commit order.</summary>
internal sealed class Watcher(ResourceType type, string? ns)
{
    public ResourceType Type { get; } = type;

    // Not SingleReader: only the multi-reader unbounded channel can Count, which bookmarks rely on.
    public Channel<Change> Events { get; } = Channel.CreateUnbounded<Change>();

    public bool Accepts(Change change) => change.Type == Type && (ns is null || ns == ObjectStore.NamespaceOf(change.Object));
}

/// <summary>
/// The fake API server's storage: objects as JSON, one global resourceVersion counter, a bounded history of changes
/// for watches, and the open watchers. One lock orders every write, so watchers see changes in version order.
/// </summary>
internal sealed class ObjectStore(TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(ResourceType, string, string), JsonObject> _objects = [];
    private readonly Queue<Change> _history = new();
    private readonly List<Watcher> _watchers = [];
    private long _version = 1;
    private long _compactedThrough;

    /// <summary>How many changes are kept for watches; a watch from before the oldest gets 410 Gone.</summary>
    public int HistoryLimit { get; set; } = 10_000;

    public long Version
    {
        get
        {
            lock (_gate)
            {
                return _version;
            }
        }
    }

    public static string? NamespaceOf(JsonObject obj) => obj["metadata"]?["namespace"]?.GetValue<string>();

    public static string NameOf(JsonObject obj) => obj["metadata"]?["name"]?.GetValue<string>() ?? string.Empty;

    public static string? VersionOf(JsonObject obj) => obj["metadata"]?["resourceVersion"]?.GetValue<string>();

    public JsonObject? Get(ResourceType type, string ns, string name)
    {
        lock (_gate)
        {
            return _objects.TryGetValue((type, ns, name), out var obj) ? (JsonObject)obj.DeepClone() : null;
        }
    }

    public List<JsonObject> List(ResourceType type, string? ns, FieldSelector selector, out long version) =>
        List(type, ns, selector, LabelSelector.Everything, out version);

    public List<JsonObject> List(ResourceType type, string? ns, FieldSelector selector, LabelSelector labels, out long version)
    {
        lock (_gate)
        {
            version = _version;
            return [.. _objects
                .Where(e => e.Key.Item1 == type && (ns is null || e.Key.Item2 == ns) && selector.Matches(e.Value) && labels.Matches(e.Value))
                .OrderBy(e => e.Key.Item2, StringComparer.Ordinal)
                .ThenBy(e => e.Key.Item3, StringComparer.Ordinal)
                .Select(e => (JsonObject)e.Value.DeepClone())];
        }
    }

    /// <summary>Creates an object; 409 AlreadyExists when the name is taken.</summary>
    public JsonObject Create(ResourceType type, string ns, JsonObject obj)
    {
        lock (_gate)
        {
            var metadata = Metadata(obj);
            if (metadata["name"] is null && metadata["generateName"]?.GetValue<string>() is { } prefix)
            {
                string candidate;
                do
                {
                    candidate = prefix + Guid.NewGuid().ToString("N")[..5];
                }
                while (_objects.ContainsKey((type, ns, candidate)));

                metadata["name"] = candidate;
            }

            var name = metadata["name"]?.GetValue<string>();
            if (string.IsNullOrEmpty(name))
            {
                throw new ApiErrorException(422, "Invalid", $"{type.Kind} \"\" is invalid: metadata.name: Required value");
            }

            if (_objects.ContainsKey((type, ns, name)))
            {
                throw new ApiErrorException(409, "AlreadyExists", $"{type.Qualified} \"{name}\" already exists");
            }

            obj["apiVersion"] = type.ApiVersion;
            obj["kind"] = type.Kind;
            if (type.Namespaced)
            {
                metadata["namespace"] = ns;
            }

            metadata["uid"] ??= Guid.NewGuid().ToString();
            metadata["creationTimestamp"] ??= time.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            Commit(type, ns, name, "ADDED", null, obj);
            return (JsonObject)obj.DeepClone();
        }
    }

    /// <summary>Replaces an object with what <paramref name="update"/> makes of a copy of it; 404 when absent.</summary>
    /// <remarks>The update may throw <see cref="ApiErrorException"/>; it runs under the store lock, so read-check-write is atomic.</remarks>
    public JsonObject Update(ResourceType type, string ns, string name, Func<JsonObject, JsonObject> update)
    {
        lock (_gate)
        {
            var current = _objects.GetValueOrDefault((type, ns, name)) ?? throw NotFound(type, name);
            var updated = update((JsonObject)current.DeepClone());

            // Identity fields are the server's, whatever the client sent.
            var metadata = Metadata(updated);
            metadata["name"] = name;
            metadata["uid"] = current["metadata"]!["uid"]?.DeepClone();
            metadata["creationTimestamp"] = current["metadata"]!["creationTimestamp"]?.DeepClone();
            if (type.Namespaced)
            {
                metadata["namespace"] = ns;
            }

            updated["apiVersion"] = type.ApiVersion;
            updated["kind"] = type.Kind;
            Commit(type, ns, name, "MODIFIED", current, updated);
            return (JsonObject)updated.DeepClone();
        }
    }

    /// <summary>Deletes an object after <paramref name="precondition"/> (which may throw) accepts it; 404 when absent.</summary>
    public JsonObject Delete(ResourceType type, string ns, string name, Action<JsonObject>? precondition = null)
    {
        lock (_gate)
        {
            var current = _objects.GetValueOrDefault((type, ns, name)) ?? throw NotFound(type, name);
            precondition?.Invoke(current);
            var gone = (JsonObject)current.DeepClone();
            _objects.Remove((type, ns, name));
            Commit(type, ns, name, "DELETED", current, gone);
            return (JsonObject)gone.DeepClone();
        }
    }

    /// <summary>Creates or replaces an object without any checks (test set-up).</summary>
    public JsonObject Put(ResourceType type, JsonObject obj)
    {
        var ns = type.Namespaced ? NamespaceOf(obj) ?? "default" : string.Empty;
        lock (_gate)
        {
            return _objects.ContainsKey((type, ns, NameOf(obj)))
                ? Update(type, ns, NameOf(obj), _ => obj)
                : Create(type, ns, obj);
        }
    }

    /// <summary>Registers a watch from <paramref name="resourceVersion"/>; null when that version is older than the history (410 Gone).</summary>
    /// <returns>The changes to replay first (or, from version 0/empty, every current object as ADDED) and the live watcher.</returns>
    public (List<Change> Backlog, Watcher Watcher)? Watch(ResourceType type, string? ns, string? resourceVersion)
    {
        lock (_gate)
        {
            var watcher = new Watcher(type, ns);
            List<Change> backlog;
            if (string.IsNullOrEmpty(resourceVersion) || resourceVersion == "0")
            {
                backlog = [.. _objects
                    .Where(e => e.Key.Item1 == type && (ns is null || e.Key.Item2 == ns))
                    .OrderBy(e => e.Key.Item2, StringComparer.Ordinal).ThenBy(e => e.Key.Item3, StringComparer.Ordinal)
                    .Select(e => new Change(_version, type, "ADDED", null, (JsonObject)e.Value.DeepClone()))];
            }
            else
            {
                if (!long.TryParse(resourceVersion, NumberStyles.None, CultureInfo.InvariantCulture, out var from))
                {
                    throw new ApiErrorException(400, "BadRequest", $"invalid resourceVersion '{resourceVersion}'");
                }

                if (IsCompactedLocked(from))
                {
                    return null;
                }

                backlog = [.. _history.Where(c => c.Version > from && watcher.Accepts(c))];
            }

            _watchers.Add(watcher);
            return (backlog, watcher);
        }
    }

    public void Unwatch(Watcher watcher)
    {
        lock (_gate)
        {
            _watchers.Remove(watcher);
        }
    }

    /// <summary>True when the history no longer reaches back to <paramref name="version"/>: a watch or a list page from it is 410 Gone.</summary>
    public bool IsCompacted(long version)
    {
        lock (_gate)
        {
            return IsCompactedLocked(version);
        }
    }

    /// <summary>The version a bookmark may carry now: the current version when the watcher has nothing pending and is still open, else null.</summary>
    public long? BookmarkVersion(Watcher watcher)
    {
        lock (_gate)
        {
            // A closed watcher's bookmark would carry a version from after its close, past changes it never sent.
            return watcher.Events.Reader.Count == 0 && !watcher.Events.Reader.Completion.IsCompleted ? _version : null;
        }
    }

    /// <summary>How many watches of <paramref name="type"/> are open.</summary>
    public int OpenWatches(ResourceType type)
    {
        lock (_gate)
        {
            return _watchers.Count(w => w.Type == type);
        }
    }

    /// <summary>Ends every open watch once it has sent the changes already committed; returns how many. No later change reaches them.</summary>
    public int CloseWatches()
    {
        lock (_gate)
        {
            var closed = _watchers.Count;
            foreach (var watcher in _watchers)
            {
                watcher.Events.Writer.TryComplete();
            }

            _watchers.Clear();
            return closed;
        }
    }

    /// <summary>Forgets the whole history: every watch from an existing resourceVersion now gets 410 Gone.</summary>
    public void Compact()
    {
        lock (_gate)
        {
            _history.Clear();
            _compactedThrough = _version;
        }
    }

    private bool IsCompactedLocked(long version) => version < _compactedThrough;

    private static ApiErrorException NotFound(ResourceType type, string name) =>
        new(404, "NotFound", $"{type.Qualified} \"{name}\" not found");

    private static JsonObject Metadata(JsonObject obj)
    {
        if (obj["metadata"] is not JsonObject metadata)
        {
            obj["metadata"] = metadata = [];
        }

        return metadata;
    }

    private void Commit(ResourceType type, string ns, string name, string eventType, JsonObject? old, JsonObject obj)
    {
        var version = ++_version;
        Metadata(obj)["resourceVersion"] = version.ToString(CultureInfo.InvariantCulture);
        if (eventType != "DELETED")
        {
            _objects[(type, ns, name)] = obj;
        }

        var change = new Change(version, type, eventType, old is null ? null : (JsonObject)old.DeepClone(), (JsonObject)obj.DeepClone());
        _history.Enqueue(change);
        while (_history.Count > HistoryLimit)
        {
            _compactedThrough = _history.Dequeue().Version;
        }

        foreach (var watcher in _watchers)
        {
            if (watcher.Accepts(change))
            {
                watcher.Events.Writer.TryWrite(change);
            }
        }
    }
}
