using System.Buffers;
using System.IO.Pipelines;

namespace SchedExt.Extender.Protocol;

/// <summary>Reads a whole request body from a <see cref="PipeReader"/> into a pooled contiguous buffer, enforcing a size cap.</summary>
internal static class RequestBody
{
    public static async ValueTask ReadAsync(PipeReader reader, VerbScratch scratch, long limit, CancellationToken cancellationToken)
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

    public bool HasNodes { get; set; }

    /// <summary>A char buffer for transcoding node names.</summary>
    public char[] Chars { get; private set; } = new char[512];

    public ArrayBufferWriter<byte> Output { get; } = new(64 * 1024);

    private Verbs.NodeOutcome[] _verdicts = new Verbs.NodeOutcome[1024];

    /// <summary>A reused array of at least <paramref name="count"/> node outcomes.</summary>
    public Verbs.NodeOutcome[] Verdicts(int count)
    {
        if (_verdicts.Length < count)
        {
            _verdicts = new Verbs.NodeOutcome[Math.Max(count, _verdicts.Length * 2)];
        }

        return _verdicts;
    }

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

    /// <summary>The name at <paramref name="slice"/> as chars in a reused buffer (unescaping if needed).</summary>
    public ReadOnlySpan<char> NameChars(Utf8Slice slice)
    {
        var raw = Body.AsSpan(slice.Start, slice.Length);
        if (Chars.Length < raw.Length)
        {
            Chars = new char[raw.Length * 2];
        }

        if (!slice.Escaped)
        {
            var n = System.Text.Encoding.UTF8.GetChars(raw, Chars);
            return Chars.AsSpan(0, n);
        }

        var unescaped = System.Text.Json.JsonSerializer.Deserialize<string>(Body.AsSpan(slice.Start - 1, slice.Length + 2)) ?? string.Empty;
        unescaped.CopyTo(Chars);
        return Chars.AsSpan(0, unescaped.Length);
    }

    public ReadOnlySpan<byte> Slice(Utf8Slice slice) => Body.AsSpan(slice.Start, slice.Length);

    /// <summary>Clears per-request state; keeps buffers (trimming ones grown by an unusually large request).</summary>
    public bool Reset()
    {
        BodyLength = 0;
        Pod.Reset();
        NodeNames.Clear();
        NodeItems.Clear();
        NodeItemNames.Clear();
        HasNodeNames = HasNodes = false;
        Output.ResetWrittenCount();
        Writer.Reset(Output);
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
