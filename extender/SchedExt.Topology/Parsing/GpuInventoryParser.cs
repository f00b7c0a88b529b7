using System.Globalization;
using SchedExt.Topology.Model;

namespace SchedExt.Topology.Parsing;

/// <summary>One line of <c>nvidia-smi --query-gpu=index,uuid,name,memory.total</c>: what <c>topo -m</c> does not tell.</summary>
/// <param name="Index">The GPU index, as in <c>nvidia-smi topo -m</c>.</param>
/// <param name="Uuid">Null when nvidia-smi printed <c>[N/A]</c>.</param>
/// <param name="Product">Null when nvidia-smi printed <c>[N/A]</c>.</param>
/// <param name="MemoryMiB">0 when unknown.</param>
public sealed record GpuInventoryEntry(int Index, string? Uuid, string? Product, int MemoryMiB);

/// <summary>Reads the GPU inventory printed by <c>nvidia-smi</c> (<see cref="Arguments"/>) and merges it into a topology.</summary>
public static class GpuInventoryParser
{
    /// <summary>The nvidia-smi arguments whose output <see cref="Parse"/> reads.</summary>
    public const string Arguments = "--query-gpu=index,uuid,name,memory.total --format=csv,noheader,nounits";

    /// <summary>
    /// Parses one <c>index, uuid, name, memory.total</c> line per GPU. Tolerates a header line, a <c>MiB</c> unit, CRLF and
    /// blank lines; a name with commas is kept whole (nvidia-smi does not quote CSV fields). Entries come back ordered by index.
    /// </summary>
    public static IReadOnlyList<GpuInventoryEntry> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var entries = new SortedDictionary<int, GpuInventoryEntry>();
        var lines = text.Split('\n');
        for (var at = 0; at < lines.Length; at++)
        {
            var line = lines[at].Trim();
            var lineNumber = at + 1;
            if (line.Length == 0 || line.StartsWith("index", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var fields = line.Split(',', StringSplitOptions.TrimEntries);
            if (fields.Length < 4)
            {
                throw new NvidiaSmiParseException(lineNumber, $"{fields.Length} fields; expected index, uuid, name, memory.total");
            }

            if (!int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                throw new NvidiaSmiParseException(lineNumber, $"GPU index '{fields[0]}' is not a number");
            }

            var entry = new GpuInventoryEntry(
                index,
                Known(fields[1]),
                Known(string.Join(", ", fields[2..^1])),
                Memory(fields[^1], lineNumber));
            if (!entries.TryAdd(index, entry))
            {
                throw new NvidiaSmiParseException(lineNumber, $"GPU {index} is listed twice");
            }
        }

        return [.. entries.Values];
    }

    /// <summary>
    /// A copy of <paramref name="topology"/> whose GPUs carry the UUID, product and memory of the inventory. The inventory
    /// must list exactly the GPUs of the topology (indices 0..n-1); otherwise <see cref="TopologyFormatException"/>.
    /// </summary>
    public static NodeTopology Enrich(NodeTopology topology, IReadOnlyList<GpuInventoryEntry> inventory)
    {
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(inventory);
        var byIndex = new GpuInventoryEntry?[topology.GpuCount];
        foreach (var entry in inventory)
        {
            if (entry.Index < 0 || entry.Index >= byIndex.Length)
            {
                throw new TopologyFormatException($"gpus[{entry.Index}]", $"the inventory lists GPU {entry.Index} but the topology has {byIndex.Length} GPUs");
            }

            if (byIndex[entry.Index] is not null)
            {
                throw new TopologyFormatException($"gpus[{entry.Index}]", "the inventory lists this GPU twice");
            }

            byIndex[entry.Index] = entry;
        }

        var gpus = new GpuDevice[topology.GpuCount];
        for (var i = 0; i < gpus.Length; i++)
        {
            var entry = byIndex[i] ?? throw new TopologyFormatException($"gpus[{i}]", "missing from the inventory");
            gpus[i] = topology.Gpus[i] with { Uuid = entry.Uuid, Product = entry.Product, MemoryMiB = entry.MemoryMiB };
        }

        return topology.With(gpus: gpus);
    }

    private static string? Known(string value) => value.Length == 0 || value.StartsWith('[') ? null : value;

    private static int Memory(string field, int line)
    {
        var value = field.EndsWith("MiB", StringComparison.Ordinal) ? field[..^3].TrimEnd() : field;
        if (Known(value) is null)
        {
            return 0;
        }

        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var mib)
            ? mib
            : throw new NvidiaSmiParseException(line, $"memory.total '{field}' is not a number of MiB");
    }
}
