using CsCheck;
using SchedExt.Testing;
using SchedExt.Topology.Model;
using SchedExt.Topology.Parsing;
using SchedExt.Topology.Tests.Generators;

namespace SchedExt.Topology.Tests.Parsing;

public sealed class NvidiaSmiTopologyParserTests
{
    private const string Hgx = "hgx-h200_8gpu_12nic_distributedai.txt";
    private const string Dgx1 = "dgx1-v100_hybrid-cube-mesh_msccl-tools.txt";
    private const string Rtx = "2x-rtx5090_workstation_PHB_club3090-issue1229.txt";

    private static string Sample(string file) => TestData.ReadText("nvidia-smi-topo", file);

    /// <summary>Joins lines with LF, writing a tab wherever a line has '|', so that tables stay readable in source.</summary>
    private static string Table(params string[] lines) => string.Join('\n', lines).Replace('|', '\t');

    private static Link L(string token) => Link.Parse(token);

    [Fact]
    public void Parse_HgxH200Sample_ReadsNvSwitchNicLegendAndNuma()
    {
        var t = NvidiaSmiTopologyParser.Parse(Sample(Hgx));

        Assert.Equal(8, t.GpuCount);
        for (var a = 0; a < 8; a++)
        {
            for (var b = 0; b < 8; b++)
            {
                Assert.Equal(a == b ? Link.Self : Link.NvLink(18), t.GpuLink(a, b));
            }
        }

        Assert.Equal(Enumerable.Range(0, 12).Select(k => $"mlx5_{k}"), t.Nics.Select(n => n.Name));
        Assert.Equal(Link.Pxb, t.NicLink(0, 0));
        Assert.Equal(Link.Node, t.NicLink(0, 1));
        Assert.Equal(Link.Sys, t.NicLink(0, 6));
        Assert.Equal(Link.Pxb, t.NicLink(1, 3));
        Assert.Equal(Link.Pxb, t.NicLink(7, 11));
        Assert.Equal(["mlx5_0"], t.NearNics(0));
        Assert.Equal([0, 0, 0, 0, 1, 1, 1, 1], t.Gpus.Select(g => g.NumaNode));
        Assert.Equal([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1], t.Nics.Select(n => n.NumaNode));
        Assert.Equal([new NumaNodeInfo(0, "0-55,112-167"), new NumaNodeInfo(1, "56-111,168-223")], t.NumaNodes);
        Assert.All(t.Gpus, g => Assert.Null(g.Uuid));
    }

    [Fact]
    public void Parse_Dgx1Sample_ReadsHybridCubeMeshAndNamedNicColumns()
    {
        var t = NvidiaSmiTopologyParser.Parse(Sample(Dgx1));

        Assert.Equal(8, t.GpuCount);
        Assert.Equal(L("NV1"), t.GpuLink(0, 1));
        Assert.Equal(L("NV2"), t.GpuLink(0, 3));
        Assert.Equal(L("NV2"), t.GpuLink(3, 0));
        Assert.Equal(Link.Sys, t.GpuLink(0, 5));
        Assert.Equal(L("NV1"), t.GpuLink(3, 7));
        Assert.Equal(Link.Sys, t.GpuLink(4, 3));

        // Columns keep the printed order (mlx5_0, mlx5_2, mlx5_1, mlx5_3), not the numeric one.
        Assert.Equal(["mlx5_0", "mlx5_2", "mlx5_1", "mlx5_3"], t.Nics.Select(n => n.Name));
        Assert.Equal(Link.Pix, t.NicLink(0, 0));
        Assert.Equal(Link.Phb, t.NicLink(0, 2));
        Assert.Equal(Link.Pix, t.NicLink(4, 1));
        Assert.Equal(Link.Sys, t.NicLink(4, 0));

        // No NUMA Affinity column: NUMA stays unknown rather than guessed from the CPU lists.
        Assert.All(t.Gpus, g => Assert.Equal(-1, g.NumaNode));
        Assert.All(t.Nics, n => Assert.Equal(-1, n.NumaNode));
        Assert.Empty(t.NumaNodes);
    }

    [Fact]
    public void Parse_Rtx5090Sample_ReadsPhbPairOnOneNumaNode()
    {
        var t = NvidiaSmiTopologyParser.Parse(Sample(Rtx));

        Assert.Equal(2, t.GpuCount);
        Assert.Equal(Link.Phb, t.GpuLink(0, 1));
        Assert.Empty(t.Nics);
        Assert.Equal([0, 0], t.Gpus.Select(g => g.NumaNode));
        Assert.Equal([new NumaNodeInfo(0, "0-63")], t.NumaNodes);
    }

    [Fact]
    public void Parse_NumaAffinityRange_ThatGpuHasNoHomeNodeAndTheMatrixIsKept()
    {
        // nvidia-smi prints a range where a GPU's slot is tied to no single node (a two-socket board, several NUMA nodes
        // per socket). Shaped as nvidia-smi writes it (tabs, the empty cell before GPU NUMA ID); GPU2 has one node.
        const string Matrix =
            "\tGPU0\tGPU1\tGPU2\tCPU Affinity\tNUMA Affinity\tGPU NUMA ID\n" +
            "GPU0\t X \tPHB\tSYS\t0-31\t0-1\t\tN/A\n" +
            "GPU1\tPHB\t X \tSYS\t0-31\t0-3\t\tN/A\n" +
            "GPU2\tSYS\tSYS\t X \t16-31\t1\t\tN/A\n" +
            "\nLegend:\n\n  X    = Self\n";

        var t = NvidiaSmiTopologyParser.Parse(Matrix);

        Assert.Equal(3, t.GpuCount);
        Assert.Equal([-1, -1, 1], t.Gpus.Select(g => g.NumaNode));
        Assert.Equal(Link.Phb, t.GpuLink(0, 1));
    }

    [Theory]
    [InlineData(Hgx)]
    [InlineData(Dgx1)]
    [InlineData(Rtx)]
    public void Parse_SampleWithCrlfAndBlankLinesAround_EqualsPlainSample(string file)
    {
        var plain = NvidiaSmiTopologyParser.Parse(Sample(file));
        var mangled = NvidiaSmiTopologyParser.Parse("\r\n\r\n" + Sample(file).Replace("\n", "\r\n") + "\r\n\r\n");

        Assert.True(plain.StructurallyEquals(mangled));
    }

    [Theory]
    [InlineData(Hgx)]
    [InlineData(Dgx1)]
    [InlineData(Rtx)]
    public void Parse_SampleWithAnsiUnderlinedHeader_EqualsPlainSample(string file)
    {
        var text = Sample(file);
        var newline = text.IndexOf('\n', StringComparison.Ordinal);
        var underlined = "\u001b[4m" + text[..newline] + "\u001b[0m" + text[newline..];

        Assert.True(NvidiaSmiTopologyParser.Parse(text).StructurallyEquals(NvidiaSmiTopologyParser.Parse(underlined)));
    }

    [Fact]
    public void Parse_SpaceSeparatedWithMultiWordHeaders_ReadsAffinityColumns()
    {
        var t = NvidiaSmiTopologyParser.Parse("""
                    GPU0    GPU1    mlx5_0  CPU Affinity    NUMA Affinity   GPU NUMA ID
            GPU0     X      NV4     PXB     0-31,64-95      0               N/A
            GPU1    NV4      X      SYS     32-63,96-127    1               N/A
            mlx5_0  PXB     SYS      X

            Legend:

              X    = Self
            """);

        Assert.Equal(L("NV4"), t.GpuLink(0, 1));
        Assert.Equal([Link.Pxb, Link.Sys], [t.NicLink(0, 0), t.NicLink(1, 0)]);
        Assert.Equal([0, 1], t.Gpus.Select(g => g.NumaNode));
        Assert.Equal([new NumaNodeInfo(0, "0-31,64-95"), new NumaNodeInfo(1, "32-63,96-127")], t.NumaNodes);
        Assert.Equal(new NicDevice("mlx5_0", 0), t.Nics[0]);
    }

    [Fact]
    public void Parse_NoAffinityColumns_LeavesNumaUnknown()
    {
        var t = NvidiaSmiTopologyParser.Parse(Table("|GPU0|GPU1|GPU2", "GPU0| X |PIX|SYS", "GPU1|PIX| X |SYS", "GPU2|SYS|SYS| X "));

        Assert.Equal(3, t.GpuCount);
        Assert.Equal(Link.Pix, t.GpuLink(1, 0));
        Assert.Equal(Link.Sys, t.GpuLink(2, 1));
        Assert.All(t.Gpus, g => Assert.Equal(-1, g.NumaNode));
        Assert.Empty(t.NumaNodes);
    }

    [Theory]
    [InlineData("numa affinity given", "0-7|1|N/A", 1, "0-7")]
    [InlineData("numa affinity N/A, GPU NUMA ID given", "0-7|N/A|3", 3, "0-7")]
    [InlineData("both N/A", "0-7|N/A|N/A", -1, null)]
    [InlineData("CPU affinity N/A", "N/A|2|N/A", 2, null)]
    [InlineData("nvidia-smi's empty cell before GPU NUMA ID", "0-7|1||N/A", 1, "0-7")]
    [InlineData("empty trailing cells", "0-7|1||N/A||", 1, "0-7")]
    [InlineData("GPU NUMA ID cell missing", "0-7|1", 1, "0-7")]
    [InlineData("NUMA Affinity wins over GPU NUMA ID (Grace Hopper)", "0-71|0||1", 0, "0-71")]
    public void Parse_AffinityCellVariants_ReadsNuma(string name, string cells, int numa, string? cpus)
    {
        _ = name;
        var t = NvidiaSmiTopologyParser.Parse(Table("|GPU0|CPU Affinity|NUMA Affinity|GPU NUMA ID", "GPU0| X |" + cells));

        Assert.Equal(numa, t.Gpus[0].NumaNode);
        Assert.Equal(numa < 0 ? [] : [new NumaNodeInfo(numa, cpus)], t.NumaNodes);
    }

    [Fact]
    public void Parse_UnderlinedHeaderAndNicRowsWithExtraEmptyCells_ReadsTable()
    {
        // As a current driver prints to a terminal: underlined header, NIC rows padded with one more empty cell
        // than there are affinity columns.
        var t = NvidiaSmiTopologyParser.Parse(Table(
            "|\u001b[4mGPU0|GPU1|NIC0|NIC1|CPU Affinity|NUMA Affinity|GPU NUMA ID\u001b[0m",
            "GPU0| X |NV12|PXB|SYS|0-63|0||N/A",
            "GPU1|NV12| X |SYS|PXB|64-127|1||N/A",
            "NIC0|PXB|SYS| X |SYS||||",
            "NIC1|SYS|PXB|SYS| X ||||",
            "",
            "NIC Legend:",
            "",
            "  NIC0: mlx5_0",
            "  NIC1: mlx5_1"));

        Assert.Equal(Link.NvLink(12), t.GpuLink(0, 1));
        Assert.Equal([new NicDevice("mlx5_0", 0), new NicDevice("mlx5_1", 1)], t.Nics);
        Assert.Equal([new NumaNodeInfo(0, "0-63"), new NumaNodeInfo(1, "64-127")], t.NumaNodes);
    }

    [Fact]
    public void Parse_GpuNumaIdWithoutNumaAffinityColumn_UsesGpuNumaId()
    {
        var t = NvidiaSmiTopologyParser.Parse(Table("|GPU0|CPU Affinity|GPU NUMA ID", "GPU0| X |0-71|4"));

        Assert.Equal(4, t.Gpus[0].NumaNode);
    }

    [Fact]
    public void Parse_NonContiguousNumaIds_ListsOnlyTheIdsSeen()
    {
        var t = NvidiaSmiTopologyParser.Parse(Table(
            "|GPU0|GPU1|GPU2|mlx5_0|mlx5_1|CPU Affinity|NUMA Affinity",
            "GPU0| X |SYS|SYS|PIX|SYS|0-15|0",
            "GPU1|SYS| X |NODE|SYS|PXB|32-47|2",
            "GPU2|SYS|NODE| X |SYS|NODE|32-47|2"));

        Assert.Equal([0, 2, 2], t.Gpus.Select(g => g.NumaNode));
        Assert.Equal([new NumaNodeInfo(0, "0-15"), new NumaNodeInfo(2, "32-47")], t.NumaNodes);
        Assert.Equal([0, 2], t.Nics.Select(n => n.NumaNode));
    }

    [Fact]
    public void Parse_GpusOfOneNumaNodeDisagreeOnCpus_LeavesThatNodesCpusUnknown()
    {
        var t = NvidiaSmiTopologyParser.Parse(Table(
            "|GPU0|GPU1|GPU2|CPU Affinity|NUMA Affinity",
            "GPU0| X |SYS|SYS|0-7|0",
            "GPU1|SYS| X |SYS|8-15|0",
            "GPU2|SYS|SYS| X |16-23|1"));

        Assert.Equal([new NumaNodeInfo(0, null), new NumaNodeInfo(1, "16-23")], t.NumaNodes);
    }

    [Fact]
    public void Parse_NicReachedOnlyAcrossSockets_HasUnknownNuma()
    {
        var t = NvidiaSmiTopologyParser.Parse(Table(
            "|GPU0|GPU1|mlx5_0|NUMA Affinity",
            "GPU0| X |SYS|SYS|0",
            "GPU1|SYS| X |SYS|1"));

        Assert.Equal(-1, t.Nics[0].NumaNode);
    }

    [Fact]
    public void Parse_SocAlias_ReadsAsSys()
    {
        var t = NvidiaSmiTopologyParser.Parse(Table("|GPU0|GPU1|mlx4_0", "GPU0| X |SOC|SOC", "GPU1|SOC| X |PHB"));

        Assert.Equal(Link.Sys, t.GpuLink(0, 1));
        Assert.Equal(Link.Sys, t.NicLink(0, 0));
        Assert.Equal(Link.Phb, t.NicLink(1, 0));
    }

    [Fact]
    public void Parse_NicColumnsWithoutLegend_KeepsColumnNames()
    {
        var t = NvidiaSmiTopologyParser.Parse(Table("|GPU0|NIC0|NIC1", "GPU0| X |PIX|SYS"));

        Assert.Equal(["NIC0", "NIC1"], t.Nics.Select(n => n.Name));
    }

    [Fact]
    public void Parse_ForeignTextAfterNicLegend_EndsTheLegend()
    {
        var t = NvidiaSmiTopologyParser.Parse(Table("|GPU0|NIC0|NIC1", "GPU0| X |PIX|SYS", "", "NIC Legend:", "", "  NIC0: mlx5_0", "$ exit", "  NIC1: ignored"));

        Assert.Equal(["mlx5_0", "NIC1"], t.Nics.Select(n => n.Name));
    }

    [Theory]
    [InlineData("tabs, named NICs, NIC rows, affinity", true, false, true, true, false)]
    [InlineData("tabs, NIC legend, no NIC rows, CRLF", true, true, false, true, true)]
    [InlineData("tabs, no affinity", true, false, true, false, false)]
    [InlineData("spaces, named NICs, NIC rows, affinity", false, false, true, true, false)]
    [InlineData("spaces, NIC legend, CRLF", false, true, true, true, true)]
    [InlineData("spaces, no affinity, no NIC rows", false, false, false, false, false)]
    public void Parse_FormattedRandomTopology_ReadsBackLinksNumaAndNames(string name, bool tabs, bool legend, bool nicRows, bool affinity, bool crlf)
    {
        _ = name;
        var layout = new SmiLayout(tabs, legend, nicRows, affinity, crlf);
        TopologyGen.SmiLike.Where(t => t.GpuCount > 0).Sample(expected =>
        {
            var parsed = NvidiaSmiTopologyParser.Parse(NvidiaSmiText.Format(expected, layout));

            var n = expected.GpuCount;
            var m = expected.Nics.Count;
            Assert.Equal(n, parsed.GpuCount);
            Assert.Equal(expected.Nics.Select(x => x.Name), parsed.Nics.Select(x => x.Name));
            for (var a = 0; a < n; a++)
            {
                for (var b = 0; b < n; b++)
                {
                    Assert.Equal(expected.GpuLink(a, b), parsed.GpuLink(a, b));
                }

                for (var j = 0; j < m; j++)
                {
                    Assert.Equal(expected.NicLink(a, j), parsed.NicLink(a, j));
                }
            }

            var numa = affinity ? expected.Gpus.Select(g => g.NumaNode).ToArray() : Enumerable.Repeat(-1, n).ToArray();
            Assert.Equal(numa, parsed.Gpus.Select(g => g.NumaNode));
            Assert.Equal(numa.Where(id => id >= 0).Distinct().Order(), parsed.NumaNodes.Select(x => x.Id));
            foreach (var node in parsed.NumaNodes)
            {
                Assert.Equal(expected.NumaNodes.FirstOrDefault(x => x.Id == node.Id)?.Cpus, node.Cpus);
            }

            for (var j = 0; j < m; j++)
            {
                var near = Enumerable.Range(0, n)
                    .Where(a => parsed.NicLink(a, j).Code is >= 2 and <= 5 && numa[a] >= 0)
                    .Select(a => numa[a]).Distinct().ToArray();
                Assert.Equal(near.Length == 1 ? near[0] : -1, parsed.Nics[j].NumaNode);
            }
        }, iter: 200);
    }

    [Theory]
    [InlineData("empty input", "", 1, "no topology table: the input is empty")]
    [InlineData("blank lines only", "\n  \n\t\n", 1, "no topology table: the input is empty")]
    [InlineData("no GPU columns", "\n|mlx5_0|CPU Affinity\nmlx5_0| X |", 2, "no GPU columns")]
    [InlineData("duplicate column", "|GPU0|GPU1|mlx5_0|mlx5_0\nGPU0| X |SYS|PIX|PIX", 1, "duplicate column 'mlx5_0'")]
    [InlineData("GPU columns out of order", "|GPU1|GPU0", 1, "column 'GPU1' where GPU0 was expected")]
    [InlineData("GPU column after a NIC column", "|GPU0|mlx5_0|GPU1", 1, "column 'GPU1' where GPU1 was expected: GPU columns come first")]
    [InlineData("device column after affinity", "|GPU0|CPU Affinity|mlx5_0", 1, "device column 'mlx5_0' after the affinity column 'CPU Affinity'")]
    [InlineData("unknown link token", "\n|GPU0|GPU1\nGPU0| X |NV0\nGPU1|NV0| X ", 3, "unknown link token 'NV0' in column GPU1")]
    [InlineData("N/A as a link", "|GPU0|GPU1\nGPU0| X |N/A", 2, "unknown link token 'N/A' in column GPU1")]
    [InlineData("ragged row, too few cells", "|GPU0|GPU1|mlx5_0\nGPU0| X |SYS", 2, "ragged row: 2 cells, but the header has 3 device columns")]
    [InlineData("ragged row, too many cells", "|GPU0|GPU1|CPU Affinity\nGPU0| X |SYS|0-3|7\nGPU1|SYS| X |0-3", 2, "ragged row: 2 cells after the device columns, but the header has 1 affinity column")]
    [InlineData("ragged row without affinity columns", "|GPU0\nGPU0| X |PIX", 2, "ragged row: 1 cell after the device columns, but the header has 0 affinity columns")]
    [InlineData("missing GPU row", "|GPU0|GPU1|GPU2\nGPU0| X |SYS|SYS\nGPU2|SYS|SYS| X \n\nLegend:", 4, "the table has no row for GPU1")]
    [InlineData("missing GPU row at end of input", "|GPU0|GPU1\nGPU0| X |SYS", 3, "the table has no row for GPU1")]
    [InlineData("duplicate row", "|GPU0|GPU1\nGPU0| X |SYS\nGPU0| X |SYS\nGPU1|SYS| X ", 3, "second row for GPU0 (the first is on line 2)")]
    [InlineData("row for no column", "|GPU0\nGPU0| X \nGPU1|SYS", 3, "row 'GPU1' matches no column of the header")]
    [InlineData("diagonal not X", "|GPU0|GPU1\nGPU0| X |PIX\nGPU1|PIX|PIX", 3, "GPU1's own column holds PIX; expected X")]
    [InlineData("X off the diagonal", "|GPU0|GPU1\nGPU0| X | X ", 2, "X in column GPU1 of the GPU0 row")]
    [InlineData("X as a GPU-NIC link", "|GPU0|mlx5_0\nGPU0| X | X ", 2, "X in column mlx5_0 of the GPU0 row")]
    [InlineData("asymmetric GPU matrix", "|GPU0|GPU1|GPU2\nGPU0| X |NV1|NV2\nGPU1|NV1| X |SYS\nGPU2|NV1|SYS| X ", 4, "the GPU matrix is not symmetric: GPU0→GPU2 is NV2 but GPU2→GPU0 is NV1")]
    [InlineData("NIC row disagrees with GPU row", "|GPU0|GPU1|mlx5_0\nGPU0| X |SYS|PIX\nGPU1|SYS| X |SYS\nmlx5_0|PIX|PHB| X ", 4, "mlx5_0→GPU1 is PHB but GPU1→mlx5_0 on line 3 is SYS")]
    [InlineData("NIC row diagonal not X", "|GPU0|mlx5_0\nGPU0| X |PIX\nmlx5_0|PIX|PIX", 3, "mlx5_0's own column holds PIX; expected X")]
    [InlineData("NUMA Affinity not a number", "|GPU0|NUMA Affinity\nGPU0| X |zero", 2, "NUMA Affinity 'zero' is not a NUMA node id")]
    [InlineData("GPU NUMA ID not a number", "|GPU0|NUMA Affinity|GPU NUMA ID\nGPU0| X |N/A|-1", 2, "GPU NUMA ID '-1' is not a NUMA node id")]
    [InlineData("CPU Affinity not a CPU list", "|GPU0|CPU Affinity\nGPU0| X |0-x", 2, "CPU Affinity '0-x' is not a CPU list such as 0-55,112-167")]
    [InlineData("NIC legend names a GPU", "|GPU0|NIC0\nGPU0| X |PIX\n\nNIC Legend:\n  NIC0: mlx5_0\n  NIC1: mlx5_1", 6, "the NIC Legend names NIC1, which is not a column of the table")]
    [InlineData("NIC legend names a NIC twice", "|GPU0|NIC0\nGPU0| X |PIX\n\nNIC Legend:\n  NIC0: mlx5_0\n  NIC0: mlx5_1", 6, "the NIC Legend names NIC0 twice (also on line 5)")]
    [InlineData("NIC legend gives two NICs one name", "|GPU0|NIC0|NIC1\nGPU0| X |PIX|SYS\n\nNIC Legend:\n  NIC0: mlx5_0\n  NIC1: mlx5_0", 6, "two NICs are named mlx5_0: NIC0 and NIC1")]
    [InlineData("NIC legend renames a NIC to another column's name", "|GPU0|NIC0|mlx5_1\nGPU0| X |PIX|SYS\n\nNIC Legend:\n  NIC0: mlx5_1", 1, "two NICs are named mlx5_1: NIC0 and mlx5_1")]
    public void Parse_MalformedTable_ThrowsWithLineAndReason(string name, string table, int line, string reason)
    {
        _ = name;
        var e = Assert.Throws<NvidiaSmiParseException>(() => NvidiaSmiTopologyParser.Parse(Table(table)));

        Assert.Equal(line, e.Line);
        Assert.StartsWith(reason, e.Reason, StringComparison.Ordinal);
        Assert.Equal($"line {line}: {e.Reason}", e.Message);
    }

    [Fact]
    public void Parse_MoreThan64GpuColumns_Throws()
    {
        var header = "|" + string.Join('|', Enumerable.Range(0, 65).Select(i => $"GPU{i}"));

        var e = Assert.Throws<NvidiaSmiParseException>(() => NvidiaSmiTopologyParser.Parse(Table(header)));

        Assert.Equal(1, e.Line);
        Assert.Equal("65 GPU columns; at most 64 are supported", e.Reason);
    }
}
