using System.Text;
using System.Text.Json;

namespace SchedExt.Extender.Protocol;

/// <summary>Property-name matching the way Go's encoding/json does it: exact first, then ASCII case-insensitive.</summary>
internal static class JsonKeys
{
    // Upstream: encoding/json "prefers an exact match but also accepts a case-insensitive match" (kube-scheduler's
    // extender/v1 types carry no json tags, so the keys on the wire are the Go field names).
    public static bool Is(ref readonly Utf8JsonReader reader, ReadOnlySpan<byte> name)
    {
        if (reader.ValueIsEscaped || reader.HasValueSequence)
        {
            Span<byte> buffer = stackalloc byte[128];
            if (reader.ValueSpan.Length > buffer.Length && !reader.HasValueSequence)
            {
                return false;
            }

            var length = reader.CopyString(buffer);
            return Ascii.EqualsIgnoreCase(buffer[..length], name);
        }

        return Ascii.EqualsIgnoreCase(reader.ValueSpan, name);
    }

    /// <summary>Moves to the value of the current property; throws a <see cref="ProtocolException"/> on truncated input.</summary>
    public static void Value(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw new ProtocolException("truncated JSON");
        }
    }

    /// <summary>Reads the current token as a string or null; anything else is a shape error naming <paramref name="field"/>.</summary>
    public static string? StringOrNull(ref Utf8JsonReader reader, string field) => reader.TokenType switch
    {
        JsonTokenType.String => reader.GetString(),
        JsonTokenType.Null => null,
        _ => throw new ProtocolException($"{field} must be a string, found {Describe(reader.TokenType)}"),
    };

    public static void Expect(ref readonly Utf8JsonReader reader, JsonTokenType type, string field)
    {
        if (reader.TokenType != type)
        {
            throw new ProtocolException($"{field} must be {Describe(type)}, found {Describe(reader.TokenType)}");
        }
    }

    /// <summary>True when the current token starts an object; false for null; a shape error otherwise.</summary>
    public static bool ObjectOrNull(ref readonly Utf8JsonReader reader, string field)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return false;
        }

        Expect(in reader, JsonTokenType.StartObject, field);
        return true;
    }

    /// <summary>True when the current token starts an array; false for null; a shape error otherwise.</summary>
    public static bool ArrayOrNull(ref readonly Utf8JsonReader reader, string field)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return false;
        }

        Expect(in reader, JsonTokenType.StartArray, field);
        return true;
    }

    public static string Describe(JsonTokenType type) => type switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => type.ToString(),
    };

    /// <summary>Skips the current value (object, array or scalar), turning truncation into a protocol error.</summary>
    public static void Skip(ref Utf8JsonReader reader)
    {
        if (!reader.TrySkip())
        {
            throw new ProtocolException("truncated JSON");
        }
    }
}
