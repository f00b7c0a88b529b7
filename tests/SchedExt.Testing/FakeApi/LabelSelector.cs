using System.Text.Json.Nodes;

namespace SchedExt.Testing.FakeApi;

/// <summary>The API server's label selectors: <c>k=v</c>, <c>k==v</c>, <c>k!=v</c>, <c>k</c>, <c>!k</c>, <c>k in (a,b)</c>, <c>k notin (a,b)</c>; comma = and.</summary>
internal sealed class LabelSelector
{
    private readonly Func<IReadOnlyDictionary<string, string>, bool>[] _terms;

    private LabelSelector(Func<IReadOnlyDictionary<string, string>, bool>[] terms) => _terms = terms;

    public static LabelSelector Everything { get; } = new([]);

    /// <summary>Parses a selector; throws <see cref="FormatException"/> (answered 400) when it is malformed.</summary>
    public static LabelSelector Parse(string? selector)
    {
        if (string.IsNullOrWhiteSpace(selector))
        {
            return Everything;
        }

        var terms = new List<Func<IReadOnlyDictionary<string, string>, bool>>();
        foreach (var raw in SplitTerms(selector))
        {
            var term = raw.Trim();
            var words = term.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (words.Length == 2 && (words[1].StartsWith("in ", StringComparison.Ordinal) || words[1].StartsWith("notin ", StringComparison.Ordinal)))
            {
                var key = words[0];
                var negate = words[1].StartsWith("notin", StringComparison.Ordinal);
                var set = words[1][(negate ? 5 : 2)..].Trim();
                if (!set.StartsWith('(') || !set.EndsWith(')'))
                {
                    throw new FormatException($"unable to parse requirement: {term}");
                }

                var values = set[1..^1].Split(',', StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
                terms.Add(labels => labels.TryGetValue(key, out var v) ? values.Contains(v) != negate : negate);
            }
            else if (term.Contains("!=", StringComparison.Ordinal))
            {
                var (key, value) = Pair(term, "!=");
                terms.Add(labels => !labels.TryGetValue(key, out var v) || v != value);
            }
            else if (term.Contains('=', StringComparison.Ordinal))
            {
                var (key, value) = Pair(term, term.Contains("==", StringComparison.Ordinal) ? "==" : "=");
                terms.Add(labels => labels.TryGetValue(key, out var v) && v == value);
            }
            else if (term.StartsWith('!'))
            {
                var key = term[1..].Trim();
                terms.Add(labels => !labels.ContainsKey(key));
            }
            else
            {
                terms.Add(labels => labels.ContainsKey(term));
            }
        }

        return new LabelSelector([.. terms]);
    }

    public bool Matches(JsonObject obj)
    {
        if (_terms.Length == 0)
        {
            return true;
        }

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (obj["metadata"]?["labels"] is JsonObject map)
        {
            foreach (var (k, v) in map)
            {
                labels[k] = v?.GetValue<string>() ?? string.Empty;
            }
        }

        return _terms.All(t => t(labels));
    }

    private static (string Key, string Value) Pair(string term, string op)
    {
        var at = term.IndexOf(op, StringComparison.Ordinal);
        return (term[..at].Trim(), term[(at + op.Length)..].Trim());
    }

    /// <summary>Splits on commas outside parentheses (a set's values are comma-separated too).</summary>
    private static List<string> SplitTerms(string selector)
    {
        var terms = new List<string>();
        var depth = 0;
        var start = 0;
        for (var i = 0; i < selector.Length; i++)
        {
            depth += selector[i] switch { '(' => 1, ')' => -1, _ => 0 };
            if (selector[i] == ',' && depth == 0)
            {
                terms.Add(selector[start..i]);
                start = i + 1;
            }
        }

        terms.Add(selector[start..]);
        return terms;
    }
}
