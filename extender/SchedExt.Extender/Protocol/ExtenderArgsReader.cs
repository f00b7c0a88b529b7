using System.Text.Json;

namespace SchedExt.Extender.Protocol;

/// <summary>Parses kube-scheduler's <c>ExtenderArgs</c> (filter, prioritize) from the buffered body, without a DOM.</summary>
internal static class ExtenderArgsReader
{
    private static readonly JsonReaderOptions Options = new() { MaxDepth = 64, CommentHandling = JsonCommentHandling.Disallow };

    /// <summary>Fills <paramref name="scratch"/>: the pod facts, and the node names (NodeNames) and/or node objects (Nodes.items).</summary>
    public static void Read(VerbScratch scratch, ReadOnlySpan<byte> gpuResource)
    {
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
                    ReadNames(ref reader, scratch);
                }
                else if (JsonKeys.Is(in reader, "Nodes"u8))
                {
                    JsonKeys.Value(ref reader);
                    ReadNodes(ref reader, scratch);
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
            throw new ProtocolException($"malformed JSON at byte {e.BytePositionInLine}: {FirstLine(e.Message)}", e);
        }
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

    private static void ReadNames(ref Utf8JsonReader reader, VerbScratch scratch)
    {
        if (!JsonKeys.ArrayOrNull(in reader, "NodeNames"))
        {
            return;
        }

        scratch.HasNodeNames = true;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            JsonKeys.Expect(in reader, JsonTokenType.String, "NodeNames[]");
            scratch.NodeNames.Add(new Utf8Slice((int)reader.TokenStartIndex + 1, reader.ValueSpan.Length, reader.ValueIsEscaped));
        }
    }

    private static void ReadNodes(ref Utf8JsonReader reader, VerbScratch scratch)
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
                scratch.NodeItems.Add(new Utf8Slice(start, (int)reader.BytesConsumed - start, false));
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
