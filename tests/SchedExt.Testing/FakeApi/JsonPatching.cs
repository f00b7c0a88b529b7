using System.Text.Json.Nodes;

namespace SchedExt.Testing.FakeApi;

/// <summary>JSON merge patch (RFC 7386) and JSON Patch (RFC 6902) over <see cref="JsonNode"/> trees.</summary>
/// <remarks>
/// Strategic merge patch is applied as a merge patch: the two agree on maps (labels, annotations, spec fields), which
/// is all SchedExt patches; they differ only on lists with merge keys, which the fake does not model.
/// </remarks>
internal static class JsonPatching
{
    public static JsonNode? Merge(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObject)
        {
            return patch?.DeepClone();
        }

        var result = target is JsonObject o ? (JsonObject)o.DeepClone() : [];
        foreach (var (name, value) in patchObject)
        {
            if (value is null)
            {
                result.Remove(name);
            }
            else
            {
                result[name] = Merge(result[name], value);
            }
        }

        return result;
    }

    /// <summary>Applies RFC 6902 operations; throws <see cref="InvalidOperationException"/> (answered 422) when one cannot apply.</summary>
    public static JsonNode Apply(JsonNode document, JsonArray operations)
    {
        var root = document.DeepClone();
        foreach (var op in operations)
        {
            if (op is not JsonObject o || o["op"]?.GetValue<string>() is not { } name || o["path"]?.GetValue<string>() is not { } path)
            {
                throw new InvalidOperationException("each operation needs op and path");
            }

            switch (name)
            {
                case "add":
                    Add(root, path, o["value"]?.DeepClone());
                    break;
                case "remove":
                    Remove(root, path);
                    break;
                case "replace":
                    Remove(root, path);
                    Add(root, path, o["value"]?.DeepClone());
                    break;
                case "test":
                    if (!JsonNode.DeepEquals(Get(root, path), o["value"]))
                    {
                        throw new InvalidOperationException($"test failed at {path}");
                    }

                    break;
                case "copy":
                    Add(root, path, Get(root, o["from"]!.GetValue<string>())?.DeepClone());
                    break;
                case "move":
                    var from = o["from"]!.GetValue<string>();
                    var moved = Get(root, from)?.DeepClone();
                    Remove(root, from);
                    Add(root, path, moved);
                    break;
                default:
                    throw new InvalidOperationException($"unknown op '{name}'");
            }
        }

        return root;
    }

    private static (JsonNode Parent, string Key) Parent(JsonNode root, string path)
    {
        if (!path.StartsWith('/'))
        {
            throw new InvalidOperationException($"path '{path}' must start with /");
        }

        var parts = path[1..].Split('/').Select(p => p.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToArray();
        var node = root;
        foreach (var part in parts[..^1])
        {
            node = Child(node, part) ?? throw new InvalidOperationException($"path '{path}' does not exist");
        }

        return (node, parts[^1]);
    }

    private static JsonNode? Child(JsonNode node, string key) => node switch
    {
        JsonObject o => o[key],
        JsonArray a when int.TryParse(key, out var i) && i >= 0 && i < a.Count => a[i],
        _ => null,
    };

    private static JsonNode? Get(JsonNode root, string path)
    {
        var (parent, key) = Parent(root, path);
        return Child(parent, key);
    }

    private static void Add(JsonNode root, string path, JsonNode? value)
    {
        var (parent, key) = Parent(root, path);
        switch (parent)
        {
            case JsonObject o:
                o[key] = value;
                break;
            case JsonArray a when key == "-":
                a.Add(value);
                break;
            case JsonArray a when int.TryParse(key, out var i) && i >= 0 && i <= a.Count:
                a.Insert(i, value);
                break;
            default:
                throw new InvalidOperationException($"cannot add at '{path}'");
        }
    }

    private static void Remove(JsonNode root, string path)
    {
        var (parent, key) = Parent(root, path);
        var removed = parent switch
        {
            JsonObject o => o.Remove(key),
            JsonArray a when int.TryParse(key, out var i) && i >= 0 && i < a.Count => RemoveAt(a, i),
            _ => false,
        };
        if (!removed)
        {
            throw new InvalidOperationException($"path '{path}' does not exist");
        }
    }

    private static bool RemoveAt(JsonArray array, int index)
    {
        array.RemoveAt(index);
        return true;
    }
}
