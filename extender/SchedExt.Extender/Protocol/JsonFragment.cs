using System.Buffers.Text;

namespace SchedExt.Extender.Protocol;

/// <summary>
/// One JSON array or object with an entry per candidate node, built as raw UTF-8 and then written into the response by
/// the reused <see cref="System.Text.Json.Utf8JsonWriter"/> with <c>WriteRawValue(skipInputValidation: true)</c>.
/// PERF: filter and prioritize answer thousands of entries; going through the writer per entry costs a validation and
/// escaping pass over every name and reason. Here names are copied between quotes exactly as they arrived (the reader
/// accepted them as JSON string contents, escapes included, so they are valid JSON string contents in the reply) and
/// values come pre-escaped (<see cref="Verbs.ReasonTexts"/>).
/// </summary>
internal sealed class JsonFragment
{
    private const int InitialSize = 64 * 1024;
    private byte[] _buffer = new byte[InitialSize];
    private int _length;
    private bool _first;

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    /// <summary>Starts a new array (<c>[</c>) or object (<c>{</c>), dropping what was built before.</summary>
    public void Begin(byte open)
    {
        _length = 0;
        _first = true;
        Put(open);
    }

    public void End(byte close) => Put(close);

    /// <summary>An array element <c>"name"</c>.</summary>
    public void String(ReadOnlySpan<byte> rawContents)
    {
        var d = Reserve(rawContents.Length + 3);
        var n = Separator(d);
        d[n++] = (byte)'"';
        rawContents.CopyTo(d[n..]);
        n += rawContents.Length;
        d[n++] = (byte)'"';
        _length += n;
    }

    /// <summary>An array element that is already a JSON value (a node object echoed as it arrived).</summary>
    public void Raw(ReadOnlySpan<byte> json)
    {
        var d = Reserve(json.Length + 1);
        var n = Separator(d);
        json.CopyTo(d[n..]);
        _length += n + json.Length;
    }

    /// <summary>An object member <c>"name":"value"</c>; <paramref name="escapedValue"/> is already valid JSON string contents.</summary>
    public void Property(ReadOnlySpan<byte> rawName, ReadOnlySpan<byte> escapedValue)
    {
        var d = Reserve(rawName.Length + escapedValue.Length + 6);
        var n = Separator(d);
        d[n++] = (byte)'"';
        rawName.CopyTo(d[n..]);
        n += rawName.Length;
        d[n++] = (byte)'"';
        d[n++] = (byte)':';
        d[n++] = (byte)'"';
        escapedValue.CopyTo(d[n..]);
        n += escapedValue.Length;
        d[n++] = (byte)'"';
        _length += n;
    }

    /// <summary>A prioritize entry <c>{"Host":"name","Score":n}</c> (kube-scheduler's <c>HostPriority</c>).</summary>
    public void HostPriority(ReadOnlySpan<byte> rawName, int score)
    {
        var d = Reserve(rawName.Length + 32);
        var n = Separator(d);
        "{\"Host\":\""u8.CopyTo(d[n..]);
        n += 9;
        rawName.CopyTo(d[n..]);
        n += rawName.Length;
        "\",\"Score\":"u8.CopyTo(d[n..]);
        n += 10;
        if ((uint)score <= 9)
        {
            // PERF: prioritize scores are 0..10; one digit needs no formatter.
            d[n++] = (byte)('0' + score);
        }
        else
        {
            _ = Utf8Formatter.TryFormat(score, d[n..], out var digits);
            n += digits;
        }

        d[n++] = (byte)'}';
        _length += n;
    }

    /// <summary>Drops a buffer grown by an unusually large request so the pooled scratch does not pin it.</summary>
    public void Trim()
    {
        _length = 0;
        if (_buffer.Length > 8 * 1024 * 1024)
        {
            _buffer = new byte[InitialSize];
        }
    }

    private int Separator(Span<byte> destination)
    {
        if (_first)
        {
            _first = false;
            return 0;
        }

        destination[0] = (byte)',';
        return 1;
    }

    private void Put(byte b)
    {
        Reserve(1)[0] = b;
        _length++;
    }

    /// <summary>At least <paramref name="size"/> writable bytes after what is written; the caller advances by what it used.</summary>
    private Span<byte> Reserve(int size)
    {
        if (_buffer.Length - _length < size)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + size));
        }

        return _buffer.AsSpan(_length);
    }
}
