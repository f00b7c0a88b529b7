using System.Buffers;
using System.IO.Pipelines;

namespace SchedExt.Extender.Protocol;

/// <summary>Reads a whole request body from a <see cref="PipeReader"/> into a pooled contiguous buffer, enforcing a size cap.</summary>
internal static class RequestBody
{
    /// <summary>
    /// Reads the body; with <paramref name="names"/> (filter, prioritize) the NodeNames that have arrived are read and
    /// resolved in that snapshot while the rest arrives (see <see cref="EarlyNames"/>).
    /// </summary>
    public static async ValueTask ReadAsync(PipeReader reader, VerbScratch scratch, long limit, CancellationToken cancellationToken, State.ClusterSnapshot? names = null)
    {
        scratch.BodyLength = 0;
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (scratch.BodyLength + buffer.Length > limit)
            {
                // Consume what we saw so the connection can be drained; the caller answers 400.
                reader.AdvanceTo(buffer.End);
                throw new ProtocolException($"request body exceeds the limit of {limit} bytes");
            }

            scratch.Append(buffer);

            // PERF: everything read is copied out, so consumed == examined == End and the pipe can reuse its segments.
            reader.AdvanceTo(buffer.End);
            if (names is not null)
            {
                scratch.Early.Advance(scratch.BodySpan, names);
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                break;
            }
        }

        if (scratch.BodyLength == 0)
        {
            throw new ProtocolException("empty request body");
        }
    }
}

/// <summary>Per-request working memory for the verbs, rented from an object pool and reset between requests.</summary>
internal sealed class VerbScratch
{
    private const int InitialBody = 64 * 1024;

    public byte[] Body { get; private set; } = ArrayPool<byte>.Shared.Rent(InitialBody);

    public int BodyLength { get; set; }

    public ReadOnlySpan<byte> BodySpan => Body.AsSpan(0, BodyLength);

    public PodFacts Pod { get; } = new();

    /// <summary>Node names of the request as slices of <see cref="Body"/> (raw JSON string contents).</summary>
    public List<Utf8Slice> NodeNames { get; } = [];

    /// <summary>Whole node objects of a <c>Nodes</c> list, as slices of <see cref="Body"/>.</summary>
    public List<Utf8Slice> NodeItems { get; } = [];

    /// <summary>Names of nodes in <see cref="NodeItems"/>, in the same order.</summary>
    public List<string> NodeItemNames { get; } = [];

    public bool HasNodeNames { get; set; }

    /// <summary>True when some name in <see cref="NodeNames"/> was sent with JSON escapes (its raw bytes are not its UTF-8).</summary>
    public bool AnyEscapedName { get; set; }

    public bool HasNodes { get; set; }

    public ArrayBufferWriter<byte> Output { get; } = new(64 * 1024);

    /// <summary>The passing nodes of filter (names or node objects), or prioritize's host priorities, built raw.</summary>
    public JsonFragment Passing { get; } = new();

    /// <summary>Filter's <c>FailedNodes</c>, built raw.</summary>
    public JsonFragment Failed { get; } = new();

    /// <summary>Filter's <c>FailedAndUnresolvableNodes</c>, built raw.</summary>
    public JsonFragment Unresolvable { get; } = new();

    /// <summary>NodeNames read and resolved while the body arrives.</summary>
    public EarlyNames Early { get; } = new();

    /// <summary>Filter's reason texts, formatted once per request.</summary>
    public Verbs.ReasonTexts Reasons { get; } = new();

    private int[] _positions = new int[1024];
    private int[] _hashes = new int[1024];
    private byte[] _unescaped = new byte[256];
    private byte[] _escaped = new byte[256];

    public System.Text.Json.Utf8JsonWriter Writer { get; }

    // Relaxed escaping keeps reasons readable in logs and dumps (' stays '); the output is never embedded in HTML.
    public VerbScratch() => Writer = new System.Text.Json.Utf8JsonWriter(Output, new System.Text.Json.JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    public void Append(in ReadOnlySequence<byte> data)
    {
        var needed = BodyLength + (int)data.Length;
        if (needed > Body.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Body.Length * 2));
            Body.AsSpan(0, BodyLength).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(Body);
            Body = bigger;
        }

        data.CopyTo(Body.AsSpan(BodyLength));
        BodyLength = needed;
    }

    /// <summary>Reused working arrays of at least <paramref name="count"/> entries: snapshot positions and name hashes of the candidates.</summary>
    public (int[] Positions, int[] Hashes) PositionArrays(int count)
    {
        if (_positions.Length < count)
        {
            _positions = new int[Math.Max(count, _positions.Length * 2)];
            _hashes = new int[_positions.Length];
        }

        return (_positions, _hashes);
    }

    /// <summary><paramref name="name"/> as escaped JSON string contents (UTF-8), in a reused buffer valid until the next call.</summary>
    public ReadOnlySpan<byte> EscapeName(string name)
    {
        // At most 3 UTF-8 bytes per char, and at most 6 escaped bytes (\uXXXX) per UTF-8 byte.
        var utf8Length = System.Text.Encoding.UTF8.GetByteCount(name);
        if (_unescaped.Length < utf8Length)
        {
            _unescaped = new byte[utf8Length * 2];
        }

        if (_escaped.Length < utf8Length * 6)
        {
            _escaped = new byte[utf8Length * 6];
        }

        var utf8 = _unescaped.AsSpan(0, System.Text.Encoding.UTF8.GetBytes(name, _unescaped));
        _ = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping.EncodeUtf8(utf8, _escaped, out _, out var written);
        return _escaped.AsSpan(0, written);
    }

    public ReadOnlySpan<byte> Slice(Utf8Slice slice) => Body.AsSpan(slice.Start, slice.Length);

    /// <summary>The name at <paramref name="slice"/> as UTF-8: the raw bytes, or (when the JSON escaped it) unescaped into a reused buffer.</summary>
    public ReadOnlySpan<byte> NameUtf8(Utf8Slice slice)
    {
        if (!slice.Escaped)
        {
            return Body.AsSpan(slice.Start, slice.Length);
        }

        // Unescaping never lengthens a string; the slice plus its quotes is one JSON string token the reader accepted.
        if (_unescaped.Length < slice.Length)
        {
            _unescaped = new byte[slice.Length * 2];
        }

        var reader = new System.Text.Json.Utf8JsonReader(Body.AsSpan(slice.Start - 1, slice.Length + 2));
        _ = reader.Read();
        var n = reader.CopyString(_unescaped);
        return _unescaped.AsSpan(0, n);
    }

    /// <summary>Clears per-request state; keeps buffers (trimming ones grown by an unusually large request).</summary>
    public bool Reset()
    {
        BodyLength = 0;
        Pod.Reset();
        NodeNames.Clear();
        NodeItems.Clear();
        NodeItemNames.Clear();
        HasNodeNames = HasNodes = AnyEscapedName = false;
        Output.ResetWrittenCount();
        Writer.Reset(Output);
        Passing.Trim();
        Failed.Trim();
        Unresolvable.Trim();
        Reasons.Clear();
        Early.Reset();
        if (Body.Length > 4 * 1024 * 1024)
        {
            ArrayPool<byte>.Shared.Return(Body);
            Body = ArrayPool<byte>.Shared.Rent(InitialBody);
        }

        // Returning false drops an instance that grew its output very large, so the pool does not pin it.
        return Output.Capacity <= 8 * 1024 * 1024;
    }
}

/// <summary>A range of the request body: a JSON string's raw contents (between the quotes) or a whole value.</summary>
internal readonly record struct Utf8Slice(int Start, int Length, bool Escaped);

/// <summary>The request's NodeNames as raw UTF-8 (valid as names only when none was escaped), for <see cref="State.NodeNameIndex.ResolveAll"/>.</summary>
internal readonly struct RawNodeNames(VerbScratch scratch) : State.INameList
{
    public int Count => scratch.NodeNames.Count;

    public ReadOnlySpan<byte> Name(int i) => scratch.Slice(scratch.NodeNames[i]);
}
