using System.Globalization;
using System.Text;

namespace SchedExt.Webhook.Policy;

/// <summary>The values a template may refer to, for one pod.</summary>
internal interface ITemplateScope
{
    /// <summary>The value of a variable (<c>namespace</c>, <c>gpus</c>, …) or null when it has none.</summary>
    string? Variable(TemplateVariable variable);

    /// <summary>A label or annotation value, or null when absent.</summary>
    string? Lookup(TemplateVariable source, string key);
}

/// <summary>What a template placeholder names.</summary>
internal enum TemplateVariable : byte
{
    Literal,
    Namespace,
    PodName,
    Profile,
    Gpus,
    Machine,
    Pool,
    Interconnect,
    PlacementGroup,
    NamespaceLabel,
    PodLabel,
    PodAnnotation,
}

/// <summary>A string with <c>{variable}</c> or <c>{variable|fallback}</c> placeholders, parsed and validated once when the policy loads.</summary>
/// <remarks>
/// Variables: <c>namespace</c>, <c>pod.name</c>, <c>profile</c>, <c>gpus</c>, <c>machine</c>, <c>pool</c>,
/// <c>interconnect</c>, <c>placementGroup</c>, <c>namespace.label:KEY</c>, <c>pod.label:KEY</c>,
/// <c>pod.annotation:KEY</c>. A placeholder with no value and no fallback renders empty.
/// </remarks>
internal sealed class ValueTemplate
{
    private readonly Part[] _parts;

    private ValueTemplate(string text, Part[] parts)
    {
        Text = text;
        _parts = parts;
    }

    public string Text { get; }

    /// <summary>True when the template has no placeholder.</summary>
    public bool IsLiteral => _parts.All(p => p.Variable == TemplateVariable.Literal);

    /// <summary>Parses <paramref name="text"/>; throws <see cref="FormatException"/> naming the bad placeholder.</summary>
    public static ValueTemplate Parse(string text)
    {
        var parts = new List<Part>();
        var i = 0;
        while (i < text.Length)
        {
            var open = text.IndexOf('{', i);
            if (open < 0)
            {
                parts.Add(new Part(TemplateVariable.Literal, text[i..], null));
                break;
            }

            if (open > i)
            {
                parts.Add(new Part(TemplateVariable.Literal, text[i..open], null));
            }

            var close = text.IndexOf('}', open);
            if (close < 0)
            {
                throw new FormatException($"'{text}': '{{' at {open} is never closed");
            }

            parts.Add(ParsePlaceholder(text, text[(open + 1)..close]));
            i = close + 1;
        }

        return new ValueTemplate(text, [.. parts]);
    }

    public string Render(ITemplateScope scope)
    {
        if (_parts.Length == 1 && _parts[0].Variable == TemplateVariable.Literal)
        {
            return _parts[0].Text;
        }

        var sb = new StringBuilder();
        foreach (var part in _parts)
        {
            sb.Append(RenderPart(part, scope));
        }

        return sb.ToString();
    }

    /// <summary>
    /// Reads the GPU count back from <paramref name="rendered"/>, a name this template may have rendered for the pod of
    /// <paramref name="scope"/>: true when rendering the template with some count of 1–3 digits in place of
    /// <c>{gpus}</c> (and the scope's values elsewhere) gives exactly <paramref name="rendered"/>. False for a template
    /// without <c>{gpus}</c> and for any name it does not make.
    /// </summary>
    public bool TryReadGpus(string rendered, ITemplateScope scope, out int gpus)
    {
        var before = new StringBuilder();
        foreach (var part in _parts)
        {
            if (part.Variable != TemplateVariable.Gpus)
            {
                before.Append(RenderPart(part, scope));
                continue;
            }

            // The text before the first {gpus} is known; the count is the digits after it, verified by rendering the
            // whole template with it (a literal digit may follow the placeholder, so each length is tried).
            var at = before.Length;
            if (!rendered.AsSpan().StartsWith(before.ToString(), StringComparison.Ordinal))
            {
                break;
            }

            for (var length = 1; length <= 3 && at + length <= rendered.Length && char.IsAsciiDigit(rendered[at + length - 1]); length++)
            {
                if (int.TryParse(rendered.AsSpan(at, length), NumberStyles.None, CultureInfo.InvariantCulture, out gpus)
                    && Render(new CountScope(scope, gpus)) == rendered)
                {
                    return true;
                }
            }

            break;
        }

        gpus = 0;
        return false;
    }

    private static string? RenderPart(Part part, ITemplateScope scope)
    {
        var value = part.Variable switch
        {
            TemplateVariable.Literal => part.Text,
            TemplateVariable.NamespaceLabel or TemplateVariable.PodLabel or TemplateVariable.PodAnnotation => scope.Lookup(part.Variable, part.Text),
            _ => scope.Variable(part.Variable),
        };
        return string.IsNullOrEmpty(value) ? part.Fallback : value;
    }

    public override string ToString() => Text;

    private static Part ParsePlaceholder(string text, string body)
    {
        string? fallback = null;
        var bar = body.IndexOf('|', StringComparison.Ordinal);
        if (bar >= 0)
        {
            fallback = body[(bar + 1)..];
            body = body[..bar];
        }

        body = body.Trim();
        var colon = body.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            var key = body[(colon + 1)..].Trim();
            var source = body[..colon] switch
            {
                "namespace.label" => TemplateVariable.NamespaceLabel,
                "pod.label" => TemplateVariable.PodLabel,
                "pod.annotation" => TemplateVariable.PodAnnotation,
                _ => throw new FormatException($"'{text}': unknown lookup '{body[..colon]}' (expected namespace.label, pod.label or pod.annotation)"),
            };
            return key.Length == 0 ? throw new FormatException($"'{text}': '{body}' names no key") : new Part(source, key, fallback);
        }

        var variable = body switch
        {
            "namespace" => TemplateVariable.Namespace,
            "pod.name" => TemplateVariable.PodName,
            "profile" => TemplateVariable.Profile,
            "gpus" => TemplateVariable.Gpus,
            "machine" => TemplateVariable.Machine,
            "pool" => TemplateVariable.Pool,
            "interconnect" => TemplateVariable.Interconnect,
            "placementGroup" => TemplateVariable.PlacementGroup,
            _ => throw new FormatException(
                $"'{text}': unknown variable '{body}' (expected namespace, pod.name, profile, gpus, machine, pool, interconnect, placementGroup, namespace.label:KEY, pod.label:KEY or pod.annotation:KEY)"),
        };
        return new Part(variable, body, fallback);
    }

    private readonly record struct Part(TemplateVariable Variable, string Text, string? Fallback);

    /// <summary><paramref name="inner"/>'s values with another GPU count.</summary>
    private sealed class CountScope(ITemplateScope inner, int gpus) : ITemplateScope
    {
        public string? Variable(TemplateVariable variable) =>
            variable == TemplateVariable.Gpus ? gpus.ToString(CultureInfo.InvariantCulture) : inner.Variable(variable);

        public string? Lookup(TemplateVariable source, string key) => inner.Lookup(source, key);
    }
}
