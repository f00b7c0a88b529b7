using System.Text.Json;
using SchedExt.Topology.Model;

namespace SchedExt.Topology.Annotation;

/// <summary>Reads the v1 annotation with a forward-only <see cref="Utf8JsonReader"/>, keeping the path of the field being read for error reports.</summary>
internal ref struct AnnotationReader
{
    private const string GpuKeys = "i, uuid, product, memMiB or numa";
    private const string NicKeys = "name or numa";
    private const string NumaKeys = "id or cpus";
    private const string TopKeys = "v, gpus, nics, numa, gpuLinks or nicLinks";

    private static readonly JsonReaderOptions Options = new()
    {
        MaxDepth = TopologyAnnotation.MaxDepth,
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
    };

    private Utf8JsonReader _json;

    // The path is kept in parts so that reading allocates no strings until an error needs one.
    private string? _top;
    private int _index;
    private string? _member;

    private AnnotationReader(ReadOnlySpan<byte> utf8)
    {
        _json = new Utf8JsonReader(utf8, Options);
        _index = -1;
    }

    private readonly string Path =>
        _top is null ? "$"
        : _index < 0 ? _top
        : _member is null ? $"{_top}[{_index}]"
        : $"{_top}[{_index}].{_member}";

    public static NodeTopology Read(ReadOnlySpan<byte> utf8)
    {
        try
        {
            CheckVersionFirst(utf8);
        }
        catch (InvalidOperationException)
        {
            // A key that cannot be decoded (the reader's only InvalidOperationException here); the full pass reports it with its path.
        }

        var reader = new AnnotationReader(utf8);
        try
        {
            return reader.ReadDocument();
        }
        catch (JsonException e)
        {
            throw new TopologyFormatException(reader.Path, "invalid JSON: " + e.Message, e);
        }
        catch (InvalidOperationException e)
        {
            // Only the JSON reader throws this here: a string it accepts but cannot decode, e.g. a lone UTF-16 surrogate
            // escape ("\ud800").
            throw new TopologyFormatException(reader.Path, "invalid JSON string: " + e.Message, e);
        }
    }

    /// <summary>
    /// Finds <c>v</c> before anything else is judged: a newer annotation must be reported as a newer version, not as
    /// the unknown properties it may contain. Tools that sort keys (jq, Go maps) put <c>v</c> last.
    /// </summary>
    private static void CheckVersionFirst(ReadOnlySpan<byte> utf8)
    {
        var json = new Utf8JsonReader(utf8, Options);
        try
        {
            if (!json.Read() || json.TokenType != JsonTokenType.StartObject)
            {
                return;
            }

            while (json.Read() && json.TokenType == JsonTokenType.PropertyName)
            {
                var isVersion = json.ValueTextEquals("v"u8);
                json.Read();
                if (isVersion)
                {
                    if (json.TokenType == JsonTokenType.Number && json.TryGetInt32(out var version))
                    {
                        CheckVersion(version);
                    }

                    return;
                }

                json.Skip();
            }
        }
        catch (JsonException)
        {
            // Malformed JSON is reported, with its path, by the full pass.
        }
    }

    private static void CheckVersion(int version)
    {
        if (version != TopologyAnnotation.Version)
        {
            throw new TopologyFormatException("v", $"unsupported version {version}; this build reads {TopologyAnnotation.Version}");
        }
    }

    private NodeTopology ReadDocument()
    {
        Next();
        Expect(JsonTokenType.StartObject, "an object");

        var seen = 0;
        var versionSeen = false;
        List<GpuDevice>? gpus = null;
        List<NicDevice>? nics = null;
        List<NumaNodeInfo>? numa = null;
        List<string>? gpuRows = null;
        List<string>? nicRows = null;

        while (Next() != JsonTokenType.EndObject)
        {
            if (Property("v"u8, "v", ref seen, 1))
            {
                CheckVersion(ReadInt());
                versionSeen = true;
            }
            else if (Property("gpus"u8, "gpus", ref seen, 2))
            {
                gpus = ReadGpus();
            }
            else if (Property("nics"u8, "nics", ref seen, 4))
            {
                nics = ReadNics();
            }
            else if (Property("numa"u8, "numa", ref seen, 8))
            {
                numa = ReadNumaNodes();
            }
            else if (Property("gpuLinks"u8, "gpuLinks", ref seen, 16))
            {
                gpuRows = ReadRows();
            }
            else if (Property("nicLinks"u8, "nicLinks", ref seen, 32))
            {
                nicRows = ReadRows();
            }
            else
            {
                throw UnknownProperty(null, TopKeys);
            }

            _top = null;
            _index = -1;
            _member = null;
        }

        // Anything after the closing brace makes the reader throw ("invalid after a single JSON value").
        if (_json.Read())
        {
            throw new TopologyFormatException("$", "trailing content after the document");
        }

        if (!versionSeen)
        {
            throw Missing("v");
        }

        if (gpus is null)
        {
            throw Missing("gpus");
        }

        if (gpuRows is null)
        {
            throw Missing("gpuLinks");
        }

        nics ??= [];
        if (nicRows is null && nics.Count > 0)
        {
            throw new TopologyFormatException("nicLinks", "missing required field (required when nics is not empty)");
        }

        // Checked here as well as in NodeTopology.Create, before an n×n matrix is allocated for it.
        var n = gpus.Count;
        if (n > NodeTopology.MaxGpus)
        {
            throw new TopologyFormatException("gpus", $"{n} GPUs; at most {NodeTopology.MaxGpus} are supported");
        }

        var gpuLinks = ParseMatrix("gpuLinks", gpuRows, n, n, "GPU");

        // With no NICs, an absent or empty nicLinks and one empty row per GPU all say the same thing.
        var nicLinks = nicRows is null || (nics.Count == 0 && nicRows.Count == 0) ? [] : ParseMatrix("nicLinks", nicRows, n, nics.Count, "NIC");
        return NodeTopology.Create(gpus, nics, numa ?? [], gpuLinks, nicLinks);
    }

    private List<GpuDevice> ReadGpus()
    {
        var list = new List<GpuDevice>();
        Expect(JsonTokenType.StartArray, "an array");
        for (_index = 0; NextElement(); _index++)
        {
            int? index = null;
            string? uuid = null;
            string? product = null;
            var memory = 0;
            var numaNode = -1;
            var seen = 0;
            while (Next() != JsonTokenType.EndObject)
            {
                if (Property("i"u8, "i", ref seen, 1))
                {
                    index = ReadInt();
                }
                else if (Property("uuid"u8, "uuid", ref seen, 2))
                {
                    uuid = ReadString();
                }
                else if (Property("product"u8, "product", ref seen, 4))
                {
                    product = ReadString();
                }
                else if (Property("memMiB"u8, "memMiB", ref seen, 8))
                {
                    memory = ReadInt();
                }
                else if (Property("numa"u8, "numa", ref seen, 16))
                {
                    numaNode = ReadInt();
                }
                else
                {
                    throw UnknownProperty(_top, GpuKeys);
                }

                _member = null;
            }

            list.Add(new GpuDevice(index ?? throw MissingMember("i"), uuid, product, memory, numaNode));
        }

        return list;
    }

    private List<NicDevice> ReadNics()
    {
        var list = new List<NicDevice>();
        Expect(JsonTokenType.StartArray, "an array");
        for (_index = 0; NextElement(); _index++)
        {
            string? name = null;
            var numaNode = -1;
            var seen = 0;
            while (Next() != JsonTokenType.EndObject)
            {
                if (Property("name"u8, "name", ref seen, 1))
                {
                    name = ReadString();
                }
                else if (Property("numa"u8, "numa", ref seen, 2))
                {
                    numaNode = ReadInt();
                }
                else
                {
                    throw UnknownProperty(_top, NicKeys);
                }

                _member = null;
            }

            list.Add(new NicDevice(name ?? throw MissingMember("name"), numaNode));
        }

        return list;
    }

    private List<NumaNodeInfo> ReadNumaNodes()
    {
        var list = new List<NumaNodeInfo>();
        Expect(JsonTokenType.StartArray, "an array");
        for (_index = 0; NextElement(); _index++)
        {
            int? id = null;
            string? cpus = null;
            var seen = 0;
            while (Next() != JsonTokenType.EndObject)
            {
                if (Property("id"u8, "id", ref seen, 1))
                {
                    id = ReadInt();
                }
                else if (Property("cpus"u8, "cpus", ref seen, 2))
                {
                    cpus = ReadString();
                }
                else
                {
                    throw UnknownProperty(_top, NumaKeys);
                }

                _member = null;
            }

            list.Add(new NumaNodeInfo(id ?? throw MissingMember("id"), cpus));
        }

        return list;
    }

    private List<string> ReadRows()
    {
        Expect(JsonTokenType.StartArray, "an array");
        var rows = new List<string>();
        for (_index = 0; Next() != JsonTokenType.EndArray; _index++)
        {
            rows.Add(ReadString());
        }

        return rows;
    }

    /// <summary>Moves into the next object of the current array; false at the array's end.</summary>
    private bool NextElement()
    {
        _member = null;
        if (Next() == JsonTokenType.EndArray)
        {
            return false;
        }

        Expect(JsonTokenType.StartObject, "an object");
        return true;
    }

    /// <summary>When the current property is <paramref name="utf8Name"/>, records it (rejecting a repeat) and moves to its value.</summary>
    private bool Property(ReadOnlySpan<byte> utf8Name, string name, ref int seen, int bit)
    {
        if (!_json.ValueTextEquals(utf8Name))
        {
            return false;
        }

        if (_top is null)
        {
            _top = name;
        }
        else
        {
            _member = name;
        }

        if ((seen & bit) != 0)
        {
            throw new TopologyFormatException(Path, "listed twice");
        }

        seen |= bit;
        Next();
        return true;
    }

    private readonly TopologyFormatException UnknownProperty(string? container, string expected)
    {
        var name = _json.GetString();
        var field = container is null ? name! : $"{container}[{_index}].{name}";
        return new TopologyFormatException(field, $"unknown property; expected {expected}");
    }

    private static TopologyFormatException Missing(string field) => new(field, "missing required field");

    private readonly TopologyFormatException MissingMember(string member) => new($"{_top}[{_index}].{member}", "missing required field");

    private JsonTokenType Next()
    {
        if (!_json.Read())
        {
            throw new TopologyFormatException(Path, "unexpected end of document");
        }

        return _json.TokenType;
    }

    private readonly void Expect(JsonTokenType type, string what)
    {
        if (_json.TokenType != type)
        {
            throw WrongType(what);
        }
    }

    private readonly int ReadInt()
    {
        if (_json.TokenType != JsonTokenType.Number || !_json.TryGetInt32(out var value))
        {
            throw WrongType("an integer");
        }

        return value;
    }

    private readonly string ReadString() =>
        _json.TokenType == JsonTokenType.String ? _json.GetString()! : throw WrongType("a string");

    private readonly TopologyFormatException WrongType(string expected)
    {
        var found = _json.TokenType switch
        {
            JsonTokenType.StartObject => "an object",
            JsonTokenType.StartArray => "an array",
            JsonTokenType.String => "a string",
            JsonTokenType.Number => expected == "an integer" ? "a fraction or an out-of-range number" : "a number",
            JsonTokenType.True or JsonTokenType.False => "a boolean",
            JsonTokenType.Null => "null",
            _ => _json.TokenType.ToString(),
        };
        return new TopologyFormatException(Path, $"expected {expected}, found {found}");
    }

    private static Link[] ParseMatrix(string name, List<string> rows, int rowCount, int columns, string columnKind)
    {
        if (rows.Count != rowCount)
        {
            throw new TopologyFormatException(name, $"{rows.Count} rows; expected {rowCount} (one per GPU)");
        }

        var links = new Link[rowCount * columns];
        for (var i = 0; i < rowCount; i++)
        {
            // PERF: tokens are read as spans; a 64-GPU node has 4096 of them and none needs to be a string.
            var row = rows[i].AsSpan();
            var count = 0;
            foreach (var range in row.Split(' '))
            {
                var token = row[range];
                if (token.IsEmpty)
                {
                    continue;
                }

                if (count < columns && !Link.TryParse(token, out links[(i * columns) + count]))
                {
                    throw new TopologyFormatException($"{name}[{i}][{count}]", $"unknown link token '{token}'");
                }

                count++;
            }

            if (count != columns)
            {
                throw new TopologyFormatException($"{name}[{i}]", $"{count} tokens; expected {columns} (one per {columnKind})");
            }
        }

        return links;
    }
}
