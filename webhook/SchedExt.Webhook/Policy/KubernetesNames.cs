namespace SchedExt.Webhook.Policy;

/// <summary>Kubernetes' syntax rules for label keys and values (apimachinery validation: IsQualifiedName, IsValidLabelValue).</summary>
internal static class KubernetesNames
{
    public const int MaxLabelValueLength = 63;

    /// <summary>An optional DNS-subdomain prefix and <c>/</c>, then a name of 1–63 alphanumerics, <c>-</c>, <c>_</c>, <c>.</c> that starts and ends alphanumeric.</summary>
    public static bool IsQualifiedName(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        var name = slash < 0 ? key : key[(slash + 1)..];
        if (slash >= 0)
        {
            var prefix = key[..slash];
            if (prefix.Length is 0 or > 253 || !prefix.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '.')
                || !char.IsAsciiLetterOrDigit(prefix[0]) || !char.IsAsciiLetterOrDigit(prefix[^1]))
            {
                return false;
            }
        }

        return name.Length is > 0 and <= 63 && IsValidLabelValue(name);
    }

    /// <summary>Empty, or 1–63 alphanumerics, <c>-</c>, <c>_</c>, <c>.</c> starting and ending alphanumeric.</summary>
    public static bool IsValidLabelValue(ReadOnlySpan<char> value)
    {
        if (value.Length == 0)
        {
            return true;
        }

        if (value.Length > MaxLabelValueLength || !char.IsAsciiLetterOrDigit(value[0]) || !char.IsAsciiLetterOrDigit(value[^1]))
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Makes a rendered value a valid label value: other characters become <c>-</c>, cut to 63, trimmed to alphanumeric ends.</summary>
    public static string ToLabelValue(string value)
    {
        if (IsValidLabelValue(value))
        {
            return value;
        }

        var chars = value.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-').ToArray();
        var span = chars.AsSpan(0, Math.Min(chars.Length, MaxLabelValueLength));
        var start = 0;
        while (start < span.Length && !char.IsAsciiLetterOrDigit(span[start]))
        {
            start++;
        }

        var end = span.Length;
        while (end > start && !char.IsAsciiLetterOrDigit(span[end - 1]))
        {
            end--;
        }

        return new string(span[start..end]);
    }
}
