namespace SchedExt.Webhook.Policy;

/// <summary>Kubernetes' syntax rules for names, label keys and values (apimachinery validation: IsQualifiedName, IsValidLabelValue, IsDNS1123Label, IsDNS1123Subdomain).</summary>
internal static class KubernetesNames
{
    public const int MaxLabelValueLength = 63;

    /// <summary>An optional DNS-subdomain prefix and <c>/</c>, then a name of 1–63 alphanumerics, <c>-</c>, <c>_</c>, <c>.</c> that starts and ends alphanumeric.</summary>
    public static bool IsQualifiedName(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        var name = slash < 0 ? key : key[(slash + 1)..];
        if (slash >= 0 && !IsDns1123Subdomain(key[..slash]))
        {
            return false;
        }

        return name.Length is > 0 and <= 63 && IsValidLabelValue(name);
    }

    /// <summary>1–63 lower-case alphanumerics and <c>-</c>, starting and ending alphanumeric (a pod's resource claim name, a Service name).</summary>
    public static bool IsDns1123Label(string name) => name.Length <= 63 && HasDnsLabelShape(name);

    /// <summary>At most 253 characters of DNS labels joined by <c>.</c> (most object names: a ResourceClaimTemplate, a scheduler name).</summary>
    public static bool IsDns1123Subdomain(string name) =>
        // Each dot-separated part has a label's shape (no length limit of its own), so "a..b", "a.-b" and "-a" are refused
        // as by upstream's regular expression.
        name.Length <= 253 && name.Split('.').All(HasDnsLabelShape);

    private static bool HasDnsLabelShape(string part) =>
        part.Length > 0 && IsLowerAlphanumeric(part[0]) && IsLowerAlphanumeric(part[^1]) && part.All(c => IsLowerAlphanumeric(c) || c == '-');

    private static bool IsLowerAlphanumeric(char c) => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c);

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
