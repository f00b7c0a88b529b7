using System.Globalization;
using System.Text;
using SchedExt.Topology.Model;

namespace SchedExt.Topology.Tests.Parsing;

/// <summary>How <see cref="NvidiaSmiText.Format"/> lays a table out, covering the variants the parser must read.</summary>
/// <param name="Tabs">Tab-separated as printed (true), or space-aligned as pasted (false).</param>
/// <param name="NicLegend">NIC columns as <c>NICn</c> plus a <c>NIC Legend:</c> block, instead of the NIC names.</param>
/// <param name="NicRows">Print a row per NIC after the GPU rows.</param>
/// <param name="Affinity">Print the CPU Affinity, NUMA Affinity and GPU NUMA ID columns.</param>
/// <param name="Crlf">End lines with CRLF.</param>
internal sealed record SmiLayout(bool Tabs, bool NicLegend, bool NicRows, bool Affinity, bool Crlf);

/// <summary>Renders a topology as <c>nvidia-smi topo -m</c> would, so that the parser can be checked against any generated model.</summary>
internal static class NvidiaSmiText
{
    public static string Format(NodeTopology topology, SmiLayout layout)
    {
        var n = topology.GpuCount;
        var m = topology.Nics.Count;
        var columns = Enumerable.Range(0, n).Select(i => $"GPU{i}")
            .Concat(topology.Nics.Select((nic, j) => layout.NicLegend ? $"NIC{j}" : nic.Name))
            .ToArray();
        var lines = new List<List<string>>();
        var header = new List<string> { string.Empty };
        header.AddRange(columns);
        if (layout.Affinity)
        {
            header.AddRange(["CPU Affinity", "NUMA Affinity", "GPU NUMA ID"]);
        }

        lines.Add(header);
        for (var i = 0; i < n; i++)
        {
            var row = new List<string> { columns[i] };
            row.AddRange(Enumerable.Range(0, n).Select(j => Token(topology.GpuLink(i, j))));
            row.AddRange(Enumerable.Range(0, m).Select(j => Token(topology.NicLink(i, j))));
            if (layout.Affinity)
            {
                var numa = topology.Gpus[i].NumaNode;
                var cpus = topology.NumaNodes.FirstOrDefault(node => node.Id == numa)?.Cpus;
                row.Add(cpus ?? "N/A");
                row.Add(numa < 0 ? "N/A" : numa.ToString(CultureInfo.InvariantCulture));

                // nvidia-smi prints an empty cell before GPU NUMA ID; a pasted table cannot show it.
                if (layout.Tabs)
                {
                    row.Add(string.Empty);
                }

                row.Add("N/A");
            }

            lines.Add(row);
        }

        if (layout.NicRows)
        {
            for (var j = 0; j < m; j++)
            {
                var row = new List<string> { columns[n + j] };
                row.AddRange(Enumerable.Range(0, n).Select(i => Token(topology.NicLink(i, j))));
                row.AddRange(Enumerable.Range(0, m).Select(k => k == j ? " X " : "SYS"));
                if (layout.Tabs && layout.Affinity)
                {
                    row.Add(string.Empty);
                }

                lines.Add(row);
            }
        }

        var text = new StringBuilder();
        foreach (var cells in lines)
        {
            text.Append(layout.Tabs ? string.Join('\t', cells) : string.Join("  ", cells.Select(c => c.PadRight(8)))).Append('\n');
        }

        text.Append("\nLegend:\n\n  X    = Self\n  SYS  = Connection traversing PCIe as well as the SMP interconnect between NUMA nodes (e.g., QPI/UPI)\n");
        if (layout.NicLegend && m > 0)
        {
            text.Append("\nNIC Legend:\n\n");
            for (var j = 0; j < m; j++)
            {
                text.Append(CultureInfo.InvariantCulture, $"  NIC{j}: {topology.Nics[j].Name}\n");
            }
        }

        return layout.Crlf ? text.Replace("\n", "\r\n").ToString() : text.ToString();
    }

    private static string Token(Link link) => link == Link.Self ? " X " : link.ToString();
}
