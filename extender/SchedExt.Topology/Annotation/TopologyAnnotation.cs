using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using SchedExt.Topology.Model;

namespace SchedExt.Topology.Annotation;

/// <summary>The versioned compact JSON form of the node annotation <c>schedext.io/topology</c> (format v1).</summary>
/// <remarks>
/// <para>Canonical form, keys in this order, optional keys omitted when absent:</para>
/// <code>
/// {"v":1,
///  "gpus":[{"i":0,"uuid":"GPU-…","product":"NVIDIA H200","memMiB":143771,"numa":0}],
///  "nics":[{"name":"mlx5_0","numa":0}],
///  "numa":[{"id":0,"cpus":"0-55,112-167"}],
///  "gpuLinks":["X NV18","NV18 X"],
///  "nicLinks":["PXB NODE","SYS SYS"]}
/// </code>
/// <para>
/// Required: <c>v</c>, <c>gpus</c> (each with <c>i</c>), <c>gpuLinks</c>, and <c>nicLinks</c> when <c>nics</c> is
/// non-empty; every NIC needs a <c>name</c>, every NUMA node an <c>id</c>. A GPU's or NIC's <c>numa</c> is omitted
/// when unknown (-1), <c>memMiB</c> when unknown (0), <c>uuid</c>/<c>product</c>/<c>cpus</c> when null, and
/// <c>nics</c>/<c>nicLinks</c>/<c>numa</c> when empty. <c>gpuLinks</c> holds one string per GPU row and
/// <c>nicLinks</c> one per GPU row with one token per NIC; tokens are nvidia-smi's, separated by spaces.
/// </para>
/// <para>
/// Parsing is strict because the annotation may be written by hand: unknown properties, duplicates, wrong JSON
/// types, comments and trailing content are errors, each reported as a <see cref="TopologyFormatException"/>
/// whose <see cref="TopologyFormatException.Field"/> is the path of the offending field (<c>$</c> for the
/// document itself). Key order and whitespace are free when reading; <see cref="Serialize(NodeTopology)"/>
/// always writes the canonical form, so <c>Serialize(Parse(s)) == s</c> for every canonical <c>s</c>.
/// </para>
/// </remarks>
public static class TopologyAnnotation
{
    /// <summary>The format version this build writes and reads.</summary>
    public const int Version = 1;

    /// <summary>The largest annotation accepted, in UTF-8 bytes; a 64-GPU node with 32 NICs needs about 25 KiB.</summary>
    public const int MaxBytes = 256 * 1024;

    /// <summary>The deepest JSON nesting accepted; v1 needs 3 (document, array, element).</summary>
    public const int MaxDepth = 8;

    // Kubernetes stores annotations as plain strings, never embedded in HTML, so non-ASCII product names stay
    // readable instead of being \u-escaped; quotes, backslashes and control characters are still escaped.
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
    };

    /// <summary>The canonical annotation text of <paramref name="topology"/>.</summary>
    /// <exception cref="ArgumentException">The topology is <see cref="NodeTopology.Unknown"/>, which has no annotation form.</exception>
    public static string Serialize(NodeTopology topology)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        Serialize(topology, buffer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Writes the canonical annotation of <paramref name="topology"/> as UTF-8 to <paramref name="output"/>.</summary>
    /// <exception cref="ArgumentException">The topology is <see cref="NodeTopology.Unknown"/>, which has no annotation form.</exception>
    public static void Serialize(NodeTopology topology, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(output);
        if (!topology.IsKnown)
        {
            throw new ArgumentException("an unknown topology has no annotation form; leave the annotation unset instead", nameof(topology));
        }

        using var writer = new Utf8JsonWriter(output, WriterOptions);
        writer.WriteStartObject();
        writer.WriteNumber("v"u8, Version);

        writer.WriteStartArray("gpus"u8);
        foreach (var gpu in topology.Gpus)
        {
            writer.WriteStartObject();
            writer.WriteNumber("i"u8, gpu.Index);
            WriteOptional(writer, "uuid"u8, gpu.Uuid);
            WriteOptional(writer, "product"u8, gpu.Product);
            if (gpu.MemoryMiB != 0)
            {
                writer.WriteNumber("memMiB"u8, gpu.MemoryMiB);
            }

            WriteNuma(writer, gpu.NumaNode);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();

        var nicCount = topology.Nics.Count;
        if (nicCount > 0)
        {
            writer.WriteStartArray("nics"u8);
            foreach (var nic in topology.Nics)
            {
                writer.WriteStartObject();
                writer.WriteString("name"u8, nic.Name);
                WriteNuma(writer, nic.NumaNode);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        if (topology.NumaNodes.Count > 0)
        {
            writer.WriteStartArray("numa"u8);
            foreach (var node in topology.NumaNodes)
            {
                writer.WriteStartObject();
                writer.WriteNumber("id"u8, node.Id);
                WriteOptional(writer, "cpus"u8, node.Cpus);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        var row = new StringBuilder();
        writer.WriteStartArray("gpuLinks"u8);
        for (var i = 0; i < topology.GpuCount; i++)
        {
            row.Clear();
            for (var j = 0; j < topology.GpuCount; j++)
            {
                AppendToken(row, topology.GpuLink(i, j));
            }

            writer.WriteStringValue(row.ToString());
        }

        writer.WriteEndArray();

        if (nicCount > 0)
        {
            writer.WriteStartArray("nicLinks"u8);
            for (var i = 0; i < topology.GpuCount; i++)
            {
                row.Clear();
                for (var j = 0; j < nicCount; j++)
                {
                    AppendToken(row, topology.NicLink(i, j));
                }

                writer.WriteStringValue(row.ToString());
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    /// <summary>Reads an annotation; throws <see cref="TopologyFormatException"/> naming the first bad field.</summary>
    public static NodeTopology Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);

        // A char never encodes to fewer than one UTF-8 byte: reject oversize input before allocating for it.
        if (json.Length > MaxBytes)
        {
            throw TooLarge(json.Length, "characters");
        }

        return Parse(Encoding.UTF8.GetBytes(json));
    }

    /// <summary>Reads an annotation from UTF-8; throws <see cref="TopologyFormatException"/> naming the first bad field.</summary>
    public static NodeTopology Parse(ReadOnlySpan<byte> utf8Json)
    {
        if (utf8Json.Length > MaxBytes)
        {
            throw TooLarge(utf8Json.Length, "bytes");
        }

        return AnnotationReader.Read(utf8Json);
    }

    private static TopologyFormatException TooLarge(int size, string unit) =>
        new("$", $"{size} {unit}; an annotation may hold at most {MaxBytes} bytes");

    private static void WriteOptional(Utf8JsonWriter writer, ReadOnlySpan<byte> name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }

    private static void WriteNuma(Utf8JsonWriter writer, int numa)
    {
        if (numa != -1)
        {
            writer.WriteNumber("numa"u8, numa);
        }
    }

    private static void AppendToken(StringBuilder row, Link link)
    {
        if (row.Length > 0)
        {
            row.Append(' ');
        }

        row.Append(link.ToString());
    }
}
