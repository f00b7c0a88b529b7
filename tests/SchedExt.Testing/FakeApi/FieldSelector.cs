using System.Text.Json.Nodes;

namespace SchedExt.Testing.FakeApi;

/// <summary>The API server's field selectors (<c>a=b</c>, <c>a==b</c>, <c>a!=b</c>, comma = and) over the fields it supports.</summary>
internal sealed class FieldSelector
{
    private static readonly string[] CommonFields = ["metadata.name", "metadata.namespace"];
    private static readonly string[] PodFields = ["spec.nodeName", "status.phase", "spec.schedulerName", "spec.restartPolicy", "status.nominatedNodeName"];

    private readonly (string[] Path, bool Equal, string Value)[] _terms;

    private FieldSelector((string[], bool, string)[] terms) => _terms = terms;

    public static FieldSelector Everything { get; } = new([]);

    /// <summary>Parses a selector; throws <see cref="FormatException"/> (answered 400) for an unknown field, like the real server.</summary>
    public static FieldSelector Parse(string? selector, ResourceType type)
    {
        if (string.IsNullOrWhiteSpace(selector))
        {
            return Everything;
        }

        var terms = new List<(string[], bool, string)>();
        foreach (var term in selector.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var notEqual = term.IndexOf("!=", StringComparison.Ordinal);
            var equal = term.IndexOf('=', StringComparison.Ordinal);
            var (field, value, isEqual) = notEqual >= 0
                ? (term[..notEqual], term[(notEqual + 2)..], false)
                : equal >= 0 ? (term[..equal], term[(equal + 1)..].TrimStart('='), true) : throw new FormatException($"invalid selector term '{term}'");
            var known = CommonFields.Contains(field) || (type == ResourceType.Pods && PodFields.Contains(field));
            if (!known)
            {
                throw new FormatException($"\"{field}\" is not a known field selector");
            }

            terms.Add((field.Split('.'), isEqual, value));
        }

        return new FieldSelector([.. terms]);
    }

    public bool Matches(JsonObject obj)
    {
        foreach (var (path, equal, value) in _terms)
        {
            JsonNode? node = obj;
            foreach (var part in path)
            {
                node = node is JsonObject o ? o[part] : null;
            }

            var actual = node is JsonValue v && v.TryGetValue<string>(out var s) ? s : node?.ToJsonString() ?? string.Empty;
            if (string.Equals(actual, value, StringComparison.Ordinal) != equal)
            {
                return false;
            }
        }

        return true;
    }
}
