using System.Globalization;
using SchedExt.Topology.Model;
using SchedExt.Topology.Requests;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace SchedExt.Simulator.Inputs;

/// <summary>
/// Reads a workload trace: CSV with a header row naming the columns (<see cref="Columns"/>), or YAML (a sequence of
/// job mappings, bare or under <c>jobs:</c>). A malformed trace throws <see cref="InvalidDataException"/> whose message
/// starts with <c>source:line:</c>. Jobs are returned in arrival order; equal arrivals keep their trace order.
/// </summary>
internal static class TraceReader
{
    /// <summary>The columns (CSV) or keys (YAML) of a job; the first three are required.</summary>
    public static IReadOnlyList<string> Columns { get; } = ["arrival", "duration", "gpus", "interconnect", "rdma", "machine", "group"];

    private const int Required = 3;

    /// <summary>Reads <paramref name="path"/>; YAML when it ends in <c>.yaml</c>/<c>.yml</c>, CSV otherwise.</summary>
    public static IReadOnlyList<SimJob> Load(string path)
    {
        var text = File.ReadAllText(path);
        var yaml = path.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);
        return yaml ? ParseYaml(text, path) : ParseCsv(text, path);
    }

    /// <summary>Parses CSV text; <paramref name="source"/> names it in errors.</summary>
    public static IReadOnlyList<SimJob> ParseCsv(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        var jobs = new List<SimJob>();
        int[]? columnOf = null;
        var lineNumber = 0;
        foreach (var rawLine in text.AsSpan().EnumerateLines())
        {
            lineNumber++;
            var line = rawLine.Trim();
            if (line.IsEmpty || line[0] == '#')
            {
                continue;
            }

            if (line.Contains('"'))
            {
                throw Error(source, lineNumber, "quoted fields are not supported; values never contain commas");
            }

            var fields = line.ToString().Split(',', StringSplitOptions.TrimEntries);
            if (columnOf is null)
            {
                columnOf = ReadHeader(fields, source, lineNumber);
                continue;
            }

            if (fields.Length != columnOf.Length)
            {
                throw Error(source, lineNumber, $"{fields.Length} fields; the header has {columnOf.Length}");
            }

            var values = new string?[Columns.Count];
            for (var i = 0; i < fields.Length; i++)
            {
                values[columnOf[i]] = fields[i];
            }

            jobs.Add(Build(jobs.Count, values, source, lineNumber));
        }

        if (columnOf is null)
        {
            throw Error(source, Math.Max(lineNumber, 1), $"no header row; expected columns {string.Join(',', Columns)}");
        }

        return InArrivalOrder(jobs);
    }

    /// <summary>Parses YAML text; <paramref name="source"/> names it in errors.</summary>
    public static IReadOnlyList<SimJob> ParseYaml(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw Error(source, (int)e.Start.Line, e.Message, e);
        }

        if (stream.Documents.Count == 0)
        {
            return [];
        }

        var root = stream.Documents[0].RootNode;
        if (root is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode("jobs"), out var inner))
        {
            root = inner;
        }

        if (root is not YamlSequenceNode sequence)
        {
            throw Error(source, (int)root.Start.Line, "expected a sequence of jobs (or a mapping with a 'jobs' sequence)");
        }

        var jobs = new List<SimJob>(sequence.Children.Count);
        foreach (var item in sequence.Children)
        {
            var line = (int)item.Start.Line;
            if (item is not YamlMappingNode job)
            {
                throw Error(source, line, "a job must be a mapping of arrival, duration, gpus, …");
            }

            var values = new string?[Columns.Count];
            foreach (var (key, value) in job.Children)
            {
                var name = (key as YamlScalarNode)?.Value ?? string.Empty;
                var index = IndexOf(name);
                if (index < 0)
                {
                    throw Error(source, (int)key.Start.Line, $"unknown key '{name}'; expected one of {string.Join(", ", Columns)}");
                }

                if (value is not YamlScalarNode scalar)
                {
                    throw Error(source, (int)value.Start.Line, $"'{name}' must be a single value");
                }

                values[index] = scalar.Value;
            }

            jobs.Add(Build(jobs.Count, values, source, line));
        }

        return InArrivalOrder(jobs);
    }

    private static int[] ReadHeader(string[] fields, string source, int line)
    {
        var columnOf = new int[fields.Length];
        var seen = new bool[Columns.Count];
        for (var i = 0; i < fields.Length; i++)
        {
            var index = IndexOf(fields[i]);
            if (index < 0)
            {
                throw Error(source, line, $"unknown column '{fields[i]}'; expected a header of {string.Join(',', Columns)}");
            }

            if (seen[index])
            {
                throw Error(source, line, $"column '{fields[i]}' appears twice");
            }

            seen[index] = true;
            columnOf[i] = index;
        }

        for (var c = 0; c < Required; c++)
        {
            if (!seen[c])
            {
                throw Error(source, line, $"the header has no '{Columns[c]}' column");
            }
        }

        return columnOf;
    }

    private static int IndexOf(string name)
    {
        for (var i = 0; i < Columns.Count; i++)
        {
            if (string.Equals(Columns[i], name, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Turns one job's text values (indexed like <see cref="Columns"/>) into a job, naming the line on any error.</summary>
    private static SimJob Build(int id, string?[] v, string source, int line)
    {
        var arrival = Seconds(v[0], "arrival", allowZero: true, source, line);
        var duration = Seconds(v[1], "duration", allowZero: false, source, line);
        if (!int.TryParse(v[2], NumberStyles.None, CultureInfo.InvariantCulture, out var gpus) || gpus is < 1 or > NodeTopology.MaxGpus)
        {
            throw Error(source, line, $"gpus '{v[2]}' is not a whole number 1..{NodeTopology.MaxGpus}");
        }

        if (!SchedExtKeys.TryParseInterconnect(v[3] ?? string.Empty, out var interconnect))
        {
            throw Error(source, line, $"interconnect '{v[3]}' is not one of nvlink, pcie-switch, numa, any");
        }

        if (!SchedExtKeys.TryParseNicNeed(v[4] ?? string.Empty, out var nic))
        {
            throw Error(source, line, $"rdma '{v[4]}' is not one of required, preferred, none");
        }

        if (!SchedExtKeys.TryParseMachinePolicy(v[5] ?? string.Empty, out var machine))
        {
            throw Error(source, line, $"machine '{v[5]}' is not one of bare-metal, vm, preferred-bare-metal, preferred-vm, any");
        }

        var group = string.IsNullOrWhiteSpace(v[6]) ? null : v[6]!.Trim();
        return new SimJob(id, arrival, duration, new GpuRequest(gpus, interconnect, nic, machine), group);
    }

    private static double Seconds(string? text, string name, bool allowZero, string source, int line)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value) || value < 0 || (!allowZero && value == 0))
        {
            throw Error(source, line, $"{name} '{text}' is not a {(allowZero ? "non-negative" : "positive")} number of seconds");
        }

        return value;
    }

    private static List<SimJob> InArrivalOrder(List<SimJob> jobs)
    {
        // Stable: equal arrivals keep trace order, which is the FIFO order of the simulation.
        var ordered = jobs.OrderBy(j => j.Arrival).ThenBy(j => j.Id).ToList();
        for (var i = 0; i < ordered.Count; i++)
        {
            ordered[i] = ordered[i] with { Id = i };
        }

        return ordered;
    }

    private static InvalidDataException Error(string source, int line, string message, Exception? inner = null) =>
        new($"{source}:{line}: {message}", inner);
}
