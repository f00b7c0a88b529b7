using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace SchedExt.Webhook.Mutation;

/// <summary>Writes an RFC 6902 JSON Patch as UTF-8 and counts its operations by kind (for metrics).</summary>
internal sealed class JsonPatchWriter : IDisposable
{
    private readonly ArrayBufferWriter<byte> _buffer = new(1024);
    private readonly Utf8JsonWriter _writer;
    private readonly Dictionary<string, int> _kinds = new(StringComparer.Ordinal);

    public JsonPatchWriter()
    {
        _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        _writer.WriteStartArray();
    }

    public int Count { get; private set; }

    public IReadOnlyDictionary<string, int> Kinds => _kinds;

    /// <summary>Escapes one JSON Pointer reference token (RFC 6901): <c>~</c> → <c>~0</c>, then <c>/</c> → <c>~1</c>.</summary>
    public static string Escape(string token) =>
        token.Contains('~', StringComparison.Ordinal) || token.Contains('/', StringComparison.Ordinal)
            ? token.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal)
            : token;

    /// <summary><c>add</c> when <paramref name="exists"/> is false, else <c>replace</c>, with a string value.</summary>
    public void Set(string kind, string path, bool exists, string value) => Write(kind, exists ? "replace" : "add", path, w => w.WriteStringValue(value));

    /// <summary><c>add</c> with any value.</summary>
    public void Add(string kind, string path, Action<Utf8JsonWriter> value) => Write(kind, "add", path, value);

    /// <summary>Ends the array and returns the patch bytes, or an empty buffer when no operation was written.</summary>
    public ReadOnlyMemory<byte> Finish()
    {
        _writer.WriteEndArray();
        _writer.Flush();
        return Count == 0 ? ReadOnlyMemory<byte>.Empty : _buffer.WrittenMemory;
    }

    public void Dispose() => _writer.Dispose();

    private void Write(string kind, string op, string path, Action<Utf8JsonWriter> value)
    {
        _writer.WriteStartObject();
        _writer.WriteString("op"u8, op);
        _writer.WriteString("path"u8, path);
        _writer.WritePropertyName("value"u8);
        value(_writer);
        _writer.WriteEndObject();
        Count++;
        _kinds[kind] = _kinds.GetValueOrDefault(kind) + 1;
    }
}
