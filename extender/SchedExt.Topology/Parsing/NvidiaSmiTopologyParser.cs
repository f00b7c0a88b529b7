using System.Globalization;
using SchedExt.Topology.Model;

namespace SchedExt.Topology.Parsing;

/// <summary>Turns the text printed by <c>nvidia-smi topo -m</c> into a <see cref="NodeTopology"/>.</summary>
/// <remarks>
/// <para>
/// Accepts the variants seen in the wild: tab-separated (as printed) or space-separated (after copy and paste)
/// columns, NICs named in the header (<c>mlx5_0</c>) or as <c>NICn</c> with a <c>NIC Legend:</c> block (the legend
/// names win), optional <c>CPU Affinity</c>, <c>NUMA Affinity</c> and <c>GPU NUMA ID</c> columns, <c>N/A</c> and empty
/// cells (nvidia-smi prints an extra empty cell before <c>GPU NUMA ID</c>), <c>SOC</c> for <c>SYS</c>, ANSI colour
/// codes, CRLF, and blank lines around the table. The <c>Legend:</c> block is ignored.
/// </para>
/// <para>
/// Meaning drawn from the table: a GPU's NUMA node is its <c>NUMA Affinity</c>, or its <c>GPU NUMA ID</c> when that
/// is absent or N/A, else -1. The NUMA nodes are the ids seen, each with the <c>CPU Affinity</c> of its GPUs (unknown
/// when they disagree). A NIC's
/// NUMA node is the one shared by every GPU it reaches without crossing sockets (PIX, PXB, PHB or NODE), else -1.
/// NIC rows are optional: GPU–NIC links are read from the GPU rows, and NIC rows, when present, must agree.
/// </para>
/// <para>Anything the parser cannot read with certainty is an <see cref="NvidiaSmiParseException"/>, never a guess.</para>
/// </remarks>
public static class NvidiaSmiTopologyParser
{
    private const string CpuAffinity = "CPU Affinity";
    private const string NumaAffinity = "NUMA Affinity";
    private const string GpuNumaId = "GPU NUMA ID";

    /// <summary>Parses <c>nvidia-smi topo -m</c> output; throws <see cref="NvidiaSmiParseException"/> with the line at fault.</summary>
    public static NodeTopology Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = SplitLines(text);

        var headerAt = 0;
        while (headerAt < lines.Length && string.IsNullOrWhiteSpace(lines[headerAt]))
        {
            headerAt++;
        }

        if (headerAt == lines.Length)
        {
            throw new NvidiaSmiParseException(1, "no topology table: the input is empty");
        }

        var header = Header.Read(lines[headerAt], headerAt + 1);
        var rows = new Row?[header.Devices.Length];
        var next = headerAt + 1;
        for (; next < lines.Length && !EndsTable(lines[next]); next++)
        {
            var row = Row.Read(lines[next], next + 1, header);
            if (rows[row.Device] is { } earlier)
            {
                throw new NvidiaSmiParseException(row.Line, $"second row for {header.Devices[row.Device]} (the first is on line {earlier.Line})");
            }

            rows[row.Device] = row;
        }

        var tableEnd = next + 1;
        var nicNames = ReadNicLegend(lines, next, header, headerAt + 1);

        var n = header.GpuCount;
        var gpuRows = new Row[n];
        for (var i = 0; i < n; i++)
        {
            gpuRows[i] = rows[i] ?? throw new NvidiaSmiParseException(tableEnd, $"the table has no row for {header.Devices[i]}");
        }

        CheckGpuSymmetry(gpuRows, header);
        CheckNicRows(rows, gpuRows, header);
        return Build(gpuRows, nicNames, header, headerAt + 1);
    }

    private static string[] SplitLines(string text)
    {
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            lines[i] = StripAnsi(lines[i].TrimEnd('\r'));
        }

        return lines;
    }

    /// <summary>Removes ANSI CSI sequences (ESC [ … final byte): nvidia-smi underlines the header when writing to a terminal.</summary>
    private static string StripAnsi(string line)
    {
        if (!line.Contains('\u001b', StringComparison.Ordinal))
        {
            return line;
        }

        var plain = new System.Text.StringBuilder(line.Length);
        for (var i = 0; i < line.Length; i++)
        {
            if (line[i] == '\u001b' && i + 1 < line.Length && line[i + 1] == '[')
            {
                i += 2;
                while (i < line.Length && line[i] is < '@' or > '~')
                {
                    i++;
                }

                continue;
            }

            plain.Append(line[i]);
        }

        return plain.ToString();
    }

    private static bool EndsTable(string line)
    {
        var trimmed = line.AsSpan().Trim();
        return trimmed.IsEmpty || trimmed.SequenceEqual("Legend:") || trimmed.SequenceEqual("NIC Legend:");
    }

    /// <summary>The NIC names, taken from the header, with <c>NICn</c> replaced by the name the <c>NIC Legend:</c> gives it.</summary>
    private static string[] ReadNicLegend(string[] lines, int from, Header header, int headerLine)
    {
        var names = new string[header.Devices.Length - header.GpuCount];
        var legendLines = new int[names.Length];
        for (var j = 0; j < names.Length; j++)
        {
            names[j] = header.Devices[header.GpuCount + j];
        }

        var inLegend = false;
        for (var at = from; at < lines.Length; at++)
        {
            var line = lines[at].AsSpan().Trim();
            if (line.SequenceEqual("NIC Legend:"))
            {
                inLegend = true;
                continue;
            }

            if (!inLegend || line.IsEmpty)
            {
                continue;
            }

            var colon = line.IndexOf(':');
            var label = colon < 0 ? default : line[..colon].Trim();
            var name = colon < 0 ? default : line[(colon + 1)..].Trim();
            if (!IsNicLabel(label) || name.IsEmpty || name.ContainsAny(' ', '\t'))
            {
                inLegend = false;
                continue;
            }

            var column = header.IndexOf(label);
            if (column < header.GpuCount)
            {
                throw new NvidiaSmiParseException(at + 1, $"the NIC Legend names {label}, which is not a column of the table");
            }

            var nic = column - header.GpuCount;
            if (legendLines[nic] != 0)
            {
                throw new NvidiaSmiParseException(at + 1, $"the NIC Legend names {label} twice (also on line {legendLines[nic]})");
            }

            legendLines[nic] = at + 1;
            names[nic] = name.ToString();
        }

        for (var j = 1; j < names.Length; j++)
        {
            var first = Array.IndexOf(names, names[j]);
            if (first < j)
            {
                throw new NvidiaSmiParseException(legendLines[j] != 0 ? legendLines[j] : headerLine, $"two NICs are named {names[j]}: {header.Devices[header.GpuCount + first]} and {header.Devices[header.GpuCount + j]}");
            }
        }

        return names;
    }

    private static void CheckGpuSymmetry(Row[] gpuRows, Header header)
    {
        for (var i = 0; i < gpuRows.Length; i++)
        {
            for (var j = 0; j < i; j++)
            {
                var there = gpuRows[j].Links[i];
                var back = gpuRows[i].Links[j];
                if (there != back)
                {
                    var later = Math.Max(gpuRows[i].Line, gpuRows[j].Line);
                    throw new NvidiaSmiParseException(later, $"the GPU matrix is not symmetric: {header.Devices[j]}→{header.Devices[i]} is {there} but {header.Devices[i]}→{header.Devices[j]} is {back}");
                }
            }
        }
    }

    /// <summary>NIC rows repeat the GPU–NIC links of the GPU rows; a table where they differ is corrupt.</summary>
    private static void CheckNicRows(Row?[] rows, Row[] gpuRows, Header header)
    {
        for (var nic = header.GpuCount; nic < rows.Length; nic++)
        {
            if (rows[nic] is not { } nicRow)
            {
                continue;
            }

            for (var gpu = 0; gpu < gpuRows.Length; gpu++)
            {
                var fromNic = nicRow.Links[gpu];
                var fromGpu = gpuRows[gpu].Links[nic];
                if (fromNic != fromGpu)
                {
                    throw new NvidiaSmiParseException(nicRow.Line, $"{header.Devices[nic]}→{header.Devices[gpu]} is {fromNic} but {header.Devices[gpu]}→{header.Devices[nic]} on line {gpuRows[gpu].Line} is {fromGpu}");
                }
            }
        }
    }

    private static NodeTopology Build(Row[] gpuRows, string[] nicNames, Header header, int headerLine)
    {
        var n = gpuRows.Length;
        var m = nicNames.Length;
        var gpuNuma = new int[n];
        // A NUMA node's CPU list is what its GPUs report; when they disagree (e.g. a cpuset-restricted
        // container), the list is recorded as unknown rather than as one GPU's guess.
        var cpusByNuma = new SortedDictionary<int, (string? Cpus, bool Conflict)>();
        for (var i = 0; i < n; i++)
        {
            var row = gpuRows[i];
            gpuNuma[i] = GpuNuma(row, header);
            var cpus = CpuList(row, header);
            if (gpuNuma[i] < 0)
            {
                continue;
            }

            if (!cpusByNuma.TryGetValue(gpuNuma[i], out var known) || (known.Cpus is null && !known.Conflict))
            {
                cpusByNuma[gpuNuma[i]] = (cpus, false);
            }
            else if (cpus is not null && known.Cpus is not null && cpus != known.Cpus)
            {
                cpusByNuma[gpuNuma[i]] = (null, true);
            }
        }

        var gpus = new GpuDevice[n];
        var gpuLinks = new Link[n * n];
        var nicLinks = new Link[n * m];
        for (var i = 0; i < n; i++)
        {
            gpus[i] = new GpuDevice(i, NumaNode: gpuNuma[i]);
            gpuRows[i].Links.AsSpan(0, n).CopyTo(gpuLinks.AsSpan(i * n, n));
            gpuRows[i].Links.AsSpan(n, m).CopyTo(nicLinks.AsSpan(i * m, m));
        }

        var nics = new NicDevice[m];
        for (var j = 0; j < m; j++)
        {
            nics[j] = new NicDevice(nicNames[j], NicNuma(gpuNuma, nicLinks, j, m));
        }

        var numaNodes = cpusByNuma.Select(kv => new NumaNodeInfo(kv.Key, kv.Value.Cpus)).ToArray();
        try
        {
            return NodeTopology.Create(gpus, nics, numaNodes, gpuLinks, nicLinks);
        }
        catch (TopologyFormatException e)
        {
            // The checks above should make this unreachable; if not, report it rather than return a wrong model.
            throw new NvidiaSmiParseException(headerLine, e.Message, e);
        }
    }

    /// <summary>The NUMA node shared by every GPU the NIC reaches within a socket; -1 when there is none or they disagree.</summary>
    internal static int NicNuma(ReadOnlySpan<int> gpuNuma, ReadOnlySpan<Link> nicLinks, int nic, int nicCount)
    {
        var numa = -1;
        for (var gpu = 0; gpu < gpuNuma.Length; gpu++)
        {
            var link = nicLinks[(gpu * nicCount) + nic];
            if (link.Code < Link.Node.Code || link.Code > Link.Pix.Code || gpuNuma[gpu] < 0)
            {
                continue;
            }

            if (numa >= 0 && numa != gpuNuma[gpu])
            {
                return -1;
            }

            numa = gpuNuma[gpu];
        }

        return numa;
    }

    private static int GpuNuma(Row row, Header header)
    {
        var numa = NumaId(row, header.NumaAffinity, NumaAffinity);
        return numa >= 0 ? numa : NumaId(row, header.GpuNumaId, GpuNumaId);
    }

    private static int NumaId(Row row, int column, string name)
    {
        var cell = row.Affinity(column);
        if (cell is null || cell == "N/A")
        {
            return -1;
        }

        if (int.TryParse(cell, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            return id;
        }

        // Several nodes (e.g. "0-1" on a two-socket board whose slot is tied to neither socket, "0-3" with several NUMA
        // nodes per socket): the GPU has no single home node, which reads as unknown (like N/A) — the links are still
        // good, and refusing the whole matrix would leave the node without a topology annotation.
        if (IsCpuList(cell))
        {
            return -1;
        }

        throw new NvidiaSmiParseException(row.Line, $"{name} '{cell}' is not a NUMA node id or list");
    }

    private static string? CpuList(Row row, Header header)
    {
        var cell = row.Affinity(header.CpuAffinity);
        if (cell is null || cell == "N/A")
        {
            return null;
        }

        return IsCpuList(cell) ? cell : throw new NvidiaSmiParseException(row.Line, $"{CpuAffinity} '{cell}' is not a CPU list such as 0-55,112-167");
    }

    /// <summary>True for a Linux CPU list: comma-separated numbers or ranges <c>a-b</c>.</summary>
    internal static bool IsCpuList(ReadOnlySpan<char> text)
    {
        foreach (var range in text.Split(','))
        {
            var part = text[range];
            var dash = part.IndexOf('-');
            if (!IsNumber(dash < 0 ? part : part[..dash]) || (dash >= 0 && !IsNumber(part[(dash + 1)..])))
            {
                return false;
            }
        }

        return true;

        static bool IsNumber(ReadOnlySpan<char> s) => !s.IsEmpty && !s.ContainsAnyExceptInRange('0', '9');
    }

    private static string Count(int count, string noun) =>
        count.ToString(CultureInfo.InvariantCulture) + " " + (count == 1 ? noun : noun + "s");

    private static bool IsNicLabel(ReadOnlySpan<char> label) =>
        label.Length > 3 && label.StartsWith("NIC", StringComparison.Ordinal) && !label[3..].ContainsAnyExceptInRange('0', '9');

    /// <summary>Splits one table line into cells: on tabs when it has any (as printed), else on runs of spaces (as pasted).</summary>
    private static List<string> Cells(string line)
    {
        if (line.Contains('\t', StringComparison.Ordinal))
        {
            return [.. line.Split('\t', StringSplitOptions.TrimEntries)];
        }

        // A pasted line has no empty cells and no leading corner cell: the leading spaces are alignment.
        return [.. line.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
    }

    /// <summary>The header line: device columns (GPUs first, then NICs) followed by affinity columns.</summary>
    private sealed class Header
    {
        // Multi-word headers, longest first, so that a pasted "GPU NUMA ID" is not read as a GPU column.
        private static readonly string[][] AffinityWords =
        [
            ["GPU", "NUMA", "ID"],
            ["CPU", "Affinity"],
            ["NUMA", "Affinity"],
        ];

        private Header(string[] devices, int gpuCount, string[] affinity)
        {
            Devices = devices;
            GpuCount = gpuCount;
            AffinityNames = affinity;
            CpuAffinity = Array.IndexOf(affinity, NvidiaSmiTopologyParser.CpuAffinity);
            NumaAffinity = Array.IndexOf(affinity, NvidiaSmiTopologyParser.NumaAffinity);
            GpuNumaId = Array.IndexOf(affinity, NvidiaSmiTopologyParser.GpuNumaId);
        }

        /// <summary>Device column names: <c>GPU0</c>…<c>GPUn-1</c>, then the NIC columns as printed.</summary>
        public string[] Devices { get; }

        public int GpuCount { get; }

        public string[] AffinityNames { get; }

        public int CpuAffinity { get; }

        public int NumaAffinity { get; }

        public int GpuNumaId { get; }

        public int IndexOf(ReadOnlySpan<char> device)
        {
            for (var i = 0; i < Devices.Length; i++)
            {
                if (device.SequenceEqual(Devices[i]))
                {
                    return i;
                }
            }

            return -1;
        }

        public static Header Read(string line, int lineNumber)
        {
            var cells = Cells(line);
            while (cells.Count > 0 && cells[^1].Length == 0)
            {
                cells.RemoveAt(cells.Count - 1);
            }

            // The tab-separated header starts with an empty corner cell above the row labels.
            if (cells.Count > 0 && cells[0].Length == 0)
            {
                cells.RemoveAt(0);
            }

            MergeAffinityWords(cells);

            var devices = new List<string>();
            var affinity = new List<string>();
            var gpuCount = 0;
            foreach (var cell in cells)
            {
                if (cell.Length == 0)
                {
                    throw new NvidiaSmiParseException(lineNumber, $"empty column name after '{(devices.Count + affinity.Count == 0 ? "(start)" : affinity.Count > 0 ? affinity[^1] : devices[^1])}'");
                }

                if (devices.Contains(cell) || affinity.Contains(cell))
                {
                    throw new NvidiaSmiParseException(lineNumber, $"duplicate column '{cell}'");
                }

                if (cell is NvidiaSmiTopologyParser.CpuAffinity or NvidiaSmiTopologyParser.NumaAffinity or NvidiaSmiTopologyParser.GpuNumaId)
                {
                    affinity.Add(cell);
                    continue;
                }

                if (affinity.Count > 0)
                {
                    throw new NvidiaSmiParseException(lineNumber, $"device column '{cell}' after the affinity column '{affinity[^1]}'");
                }

                if (IsGpuLabel(cell))
                {
                    var expected = "GPU" + gpuCount.ToString(CultureInfo.InvariantCulture);
                    if (cell != expected || devices.Count != gpuCount)
                    {
                        throw new NvidiaSmiParseException(lineNumber, $"column '{cell}' where {expected} was expected: GPU columns come first, as GPU0, GPU1, … in order");
                    }

                    gpuCount++;
                }

                devices.Add(cell);
            }

            if (gpuCount == 0)
            {
                throw new NvidiaSmiParseException(lineNumber, "no GPU columns in the header (expected GPU0, GPU1, …): this is not nvidia-smi topo -m output");
            }

            if (gpuCount > NodeTopology.MaxGpus)
            {
                throw new NvidiaSmiParseException(lineNumber, $"{gpuCount} GPU columns; at most {NodeTopology.MaxGpus} are supported");
            }

            return new Header([.. devices], gpuCount, [.. affinity]);
        }

        private static void MergeAffinityWords(List<string> cells)
        {
            for (var i = 0; i < cells.Count; i++)
            {
                foreach (var words in AffinityWords)
                {
                    if (i + words.Length <= cells.Count && cells.GetRange(i, words.Length).SequenceEqual(words))
                    {
                        cells[i] = string.Join(' ', words);
                        cells.RemoveRange(i + 1, words.Length - 1);
                        break;
                    }
                }
            }
        }

        private static bool IsGpuLabel(string cell) =>
            cell.Length > 3 && cell.StartsWith("GPU", StringComparison.Ordinal) && !cell.AsSpan(3).ContainsAnyExceptInRange('0', '9');
    }

    /// <summary>One row of the table: the device it describes, its link to every device column, and its affinity cells.</summary>
    private sealed class Row
    {
        private readonly string?[] _affinity;

        private Row(int device, int line, Link[] links, string?[] affinity)
        {
            Device = device;
            Line = line;
            Links = links;
            _affinity = affinity;
        }

        /// <summary>Index of the device column this row describes.</summary>
        public int Device { get; }

        public int Line { get; }

        public Link[] Links { get; }

        /// <summary>The cell under affinity column <paramref name="column"/>; null when the column or the cell is absent or empty.</summary>
        public string? Affinity(int column) => column < 0 ? null : _affinity[column];

        public static Row Read(string text, int line, Header header)
        {
            var cells = Cells(text);
            var label = cells[0];
            var device = header.IndexOf(label);
            if (device < 0)
            {
                throw new NvidiaSmiParseException(line, $"row '{label}' matches no column of the header");
            }

            var width = header.Devices.Length;
            var values = cells.Count - 1;
            if (values < width)
            {
                throw new NvidiaSmiParseException(line, $"ragged row: {Count(values, "cell")}, but the header has {Count(width, "device column")}");
            }

            var links = new Link[width];
            for (var c = 0; c < width; c++)
            {
                var cell = cells[c + 1];
                if (!Link.TryParse(cell, out links[c]))
                {
                    throw new NvidiaSmiParseException(line, $"unknown link token '{cell}' in column {header.Devices[c]}");
                }

                if ((links[c] == Link.Self) != (c == device))
                {
                    throw new NvidiaSmiParseException(line, c == device
                        ? $"{label}'s own column holds {links[c]}; expected X"
                        : $"X in column {header.Devices[c]} of the {label} row; X marks only a device's own column");
                }
            }

            return new Row(device, line, links, AffinityCells(cells, width + 1, header.AffinityNames.Length, line));
        }

        /// <summary>
        /// Maps the cells after the links to the affinity columns. nvidia-smi prints an empty cell before
        /// <c>GPU NUMA ID</c> and NIC rows end with empty cells, so empty cells are dropped — trailing ones first,
        /// then inner ones — until the count fits; more non-empty cells than columns is a ragged row.
        /// </summary>
        private static string?[] AffinityCells(List<string> cells, int from, int columns, int line)
        {
            var rest = cells.GetRange(from, cells.Count - from);
            while (rest.Count > columns && rest[^1].Length == 0)
            {
                rest.RemoveAt(rest.Count - 1);
            }

            if (rest.Count > columns)
            {
                rest.RemoveAll(cell => cell.Length == 0);
            }

            if (rest.Count > columns)
            {
                throw new NvidiaSmiParseException(line, $"ragged row: {Count(rest.Count, "cell")} after the device columns, but the header has {Count(columns, "affinity column")}");
            }

            var affinity = new string?[columns];
            for (var k = 0; k < rest.Count; k++)
            {
                affinity[k] = rest[k].Length == 0 ? null : rest[k];
            }

            return affinity;
        }
    }
}
