using System.Buffers;
using System.Text.Json;

namespace SchedExt.Extender.Protocol;

/// <summary>Parses kube-scheduler's <c>ExtenderArgs</c> (filter, prioritize) from the buffered body, without a DOM.</summary>
internal static class ExtenderArgsReader
{
    private static readonly JsonReaderOptions Options = new() { MaxDepth = 64, CommentHandling = JsonCommentHandling.Disallow };

    /// <summary>Bytes a node name may hold on the fast path: printable ASCII except the quote and the backslash.</summary>
    internal static readonly SearchValues<byte> PlainNameBytes = SearchValues.Create(
        Enumerable.Range(0x20, 0x7F - 0x20).Where(b => b is not '"' and not '\\').Select(b => (byte)b).ToArray());

    /// <summary>Fills <paramref name="scratch"/>: the pod facts, and the node names (NodeNames) and/or node objects (Nodes.items).</summary>
    public static void Read(VerbScratch scratch, ReadOnlySpan<byte> gpuResource)
    {
        // After a NodeNames fast scan the reader continues over the rest of the body: `skip` is the range it did not
        // see (its end is where the reader's span starts), for positions in the body and in error messages.
        var skip = new Skip(0, 0);
        try
        {
            var reader = new Utf8JsonReader(scratch.BodySpan, isFinalBlock: true, new JsonReaderState(Options));
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new ProtocolException("ExtenderArgs must be a JSON object");
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (JsonKeys.Is(in reader, "Pod"u8))
                {
                    JsonKeys.Value(ref reader);
                    scratch.Pod.Read(ref reader, gpuResource, "Pod");
                }
                else if (JsonKeys.Is(in reader, "NodeNames"u8))
                {
                    JsonKeys.Value(ref reader);
                    ReadNames(ref reader, scratch, ref skip);
                }
                else if (JsonKeys.Is(in reader, "Nodes"u8))
                {
                    JsonKeys.Value(ref reader);
                    ReadNodes(ref reader, scratch, skip.End);
                }
                else
                {
                    JsonKeys.Value(ref reader);
                    JsonKeys.Skip(ref reader);
                }
            }

            EnsureComplete(ref reader);
            if (scratch.Pod.Name is null)
            {
                throw new ProtocolException("ExtenderArgs.Pod is missing or has no metadata.name");
            }

            if (!scratch.HasNodeNames && !scratch.HasNodes)
            {
                throw new ProtocolException("ExtenderArgs has neither NodeNames nor Nodes");
            }
        }
        catch (JsonException e)
        {
            // The reader counts positions from where it started; a skipped range on the error's line (a scanned array
            // never holds a line break) shifts the position by its length.
            var line = e.LineNumber ?? 0;
            var position = e.BytePositionInLine ?? 0;
            if (skip.Length > 0 && line == scratch.BodySpan[..skip.Start].Count((byte)'\n'))
            {
                position += skip.Length;
            }

            var message = FirstLine(e.Message);
            var at = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
            throw new ProtocolException($"malformed JSON at line {line + 1}, byte {position} of the line: {(at < 0 ? message : message[..at])}", e);
        }
        catch (InvalidOperationException e)
        {
            throw ProtocolException.UndecodableString(e);
        }
    }

    /// <summary>The body range a fast scan consumed without the JSON reader (empty when none).</summary>
    private readonly record struct Skip(int Start, int End)
    {
        public int Length => End - Start;
    }

    /// <summary>After the root object: only whitespace may follow, and the root must have been closed.</summary>
    public static void EnsureComplete(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.EndObject || reader.CurrentDepth != 0)
        {
            throw new ProtocolException("truncated JSON");
        }

        if (reader.Read())
        {
            throw new ProtocolException("unexpected data after the JSON object");
        }
    }

    public static string FirstLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        return end < 0 ? message : message[..end];
    }

    private static void ReadNames(ref Utf8JsonReader reader, VerbScratch scratch, ref Skip skip)
    {
        if (!JsonKeys.ArrayOrNull(in reader, "NodeNames"))
        {
            return;
        }

        scratch.HasNodeNames = true;

        // PERF: kube-scheduler sends thousands of plain names; scanning them directly is several times cheaper than a
        // token per name. The reader then resumes at the closing bracket with its state from the opening one.
        // Only the first NodeNames array is scanned (a repeated key is read by the reader), so there is one skip. The
        // scan may have happened while the body arrived (EarlyNames): taken only if it started at this very array.
        var body = scratch.BodySpan;
        var offset = skip.End;
        var open = offset + (int)reader.BytesConsumed;
        if (skip.Length == 0 && (scratch.Early.TryTake(open, scratch.NodeNames, out var close) || TryScanNames(body, open, scratch.NodeNames, out close)))
        {
            reader = new Utf8JsonReader(body[close..], isFinalBlock: true, reader.CurrentState);
            skip = new Skip(open, close);
            offset = close;
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            JsonKeys.Expect(in reader, JsonTokenType.String, "NodeNames[]");
            if (reader.ValueIsEscaped)
            {
                // Decoded later, one by one (VerbScratch.NameUtf8): an escape that cannot be decoded is bad input now.
                _ = reader.GetString();
            }

            scratch.NodeNames.Add(new Utf8Slice(offset + (int)reader.TokenStartIndex + 1, reader.ValueSpan.Length, reader.ValueIsEscaped));
            scratch.AnyEscapedName |= reader.ValueIsEscaped;
        }
    }

    /// <summary>
    /// Reads the NodeNames array whose first element starts at or after <paramref name="start"/> (just past the
    /// <c>[</c>) when it is in the plain form (<see cref="NameScan"/>). On success every name is added and
    /// <paramref name="close"/> is the index of the closing <c>]</c>; anything else adds nothing and returns false, and
    /// the JSON reader parses (and judges) the array itself.
    /// </summary>
    internal static bool TryScanNames(ReadOnlySpan<byte> body, int start, List<Utf8Slice> names, out int close)
    {
        var before = names.Count;
        var scan = new NameScan(start);
        scan.Run(body, names);
        if (scan.Complete)
        {
            close = scan.Close;
            return true;
        }

        names.RemoveRange(before, names.Count - before);
        close = -1;
        return false;
    }

    private static void ReadNodes(ref Utf8JsonReader reader, VerbScratch scratch, int offset)
    {
        if (!JsonKeys.ObjectOrNull(in reader, "Nodes"))
        {
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!JsonKeys.Is(in reader, "items"u8))
            {
                JsonKeys.Value(ref reader);
                JsonKeys.Skip(ref reader);
                continue;
            }

            JsonKeys.Value(ref reader);
            if (!JsonKeys.ArrayOrNull(in reader, "Nodes.items"))
            {
                continue;
            }

            scratch.HasNodes = true;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                JsonKeys.Expect(in reader, JsonTokenType.StartObject, "Nodes.items[]");
                var start = (int)reader.TokenStartIndex;
                var name = ReadNodeName(ref reader);
                scratch.NodeItems.Add(new Utf8Slice(offset + start, (int)reader.BytesConsumed - start, false));
                scratch.NodeItemNames.Add(name ?? throw new ProtocolException("Nodes.items[] has no metadata.name"));
            }
        }
    }

    /// <summary>Reads a node object to its end, returning metadata.name.</summary>
    private static string? ReadNodeName(ref Utf8JsonReader reader)
    {
        string? name = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!JsonKeys.Is(in reader, "metadata"u8))
            {
                JsonKeys.Value(ref reader);
                JsonKeys.Skip(ref reader);
                continue;
            }

            JsonKeys.Value(ref reader);
            if (!JsonKeys.ObjectOrNull(in reader, "Nodes.items[].metadata"))
            {
                continue;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isName = JsonKeys.Is(in reader, "name"u8);
                JsonKeys.Value(ref reader);
                if (isName)
                {
                    name = JsonKeys.StringOrNull(ref reader, "Nodes.items[].metadata.name");
                }
                else
                {
                    JsonKeys.Skip(ref reader);
                }
            }
        }

        return name;
    }
}
