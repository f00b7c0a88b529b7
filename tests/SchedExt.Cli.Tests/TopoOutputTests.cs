using SchedExt.Testing;
using SchedExt.Topology.Annotation;
using SchedExt.Topology.Parsing;

namespace SchedExt.Cli.Tests;

/// <summary>`schedext topo` prints the annotation of nvidia-smi output read from a file or standard input.</summary>
public sealed class TopoOutputTests
{
    private const string HgxH200 = "hgx-h200_8gpu_12nic_distributedai.txt";

    /// <summary>Every captured nvidia-smi sample under tests/testdata/nvidia-smi-topo.</summary>
    public static TheoryData<string> Samples()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(TestData.PathOf("nvidia-smi-topo"), "*.txt").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(path));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public async Task Topo_FromFile_PrintsOneLineAnnotationOfTheParsedTopology(string sample)
    {
        var path = TestData.PathOf("nvidia-smi-topo", sample);

        var run = await CliRun.RunAsync(["topo", "--file", path]);

        Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());
        Assert.Equal(string.Empty, run.Error);
        var line = Assert.Single(run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var expected = NvidiaSmiTopologyParser.Parse(File.ReadAllText(path));
        Assert.True(TopologyAnnotation.Parse(line).StructurallyEquals(expected));
        Assert.Equal(TopologyAnnotation.Serialize(expected), line);
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public async Task Topo_FromStdin_PrintsSameAsFromFile(string sample)
    {
        var path = TestData.PathOf("nvidia-smi-topo", sample);
        var fromFile = await CliRun.RunAsync(["topo", "-f", path]);

        var fromStdin = await CliRun.RunAsync(["topo", "-f", "-"], stdin: File.ReadAllText(path));

        Assert.Equal(ExitCodes.Ok, fromStdin.ExitCode);
        Assert.Equal(fromFile.Out, fromStdin.Out);
    }

    [Fact]
    public async Task Topo_HgxH200WithInventory_AnnotationCarriesUuidsProductAndMemory()
    {
        var run = await CliRun.RunAsync(
            ["topo", "-f", TestData.PathOf("nvidia-smi-topo", HgxH200), "--gpu-inventory", TestData.PathOf("cli-topo", "hgx-h200_query-gpu.csv")]);

        Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());
        var topology = TopologyAnnotation.Parse(run.Out.Trim());
        Assert.Equal(8, topology.GpuCount);
        Assert.Equal(12, topology.Nics.Count);
        Assert.Equal("GPU-00000003-5d2c-4a7e-9c1b-7f3e2a9b0003", topology.Gpus[3].Uuid);
        Assert.Equal("NVIDIA H200", topology.Gpus[3].Product);
        Assert.Equal(143771, topology.Gpus[3].MemoryMiB);
        Assert.True(topology.GpuLink(0, 7).IsNvLink);
    }

    [Fact]
    public async Task Topo_InventoryFromStdin_IsRead()
    {
        var run = await CliRun.RunAsync(
            ["topo", "-f", TestData.PathOf("nvidia-smi-topo", HgxH200), "--gpu-inventory", "-"],
            stdin: File.ReadAllText(TestData.PathOf("cli-topo", "hgx-h200_query-gpu.csv")));

        Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());
        Assert.Equal("GPU-00000000-5d2c-4a7e-9c1b-7f3e2a9b0000", TopologyAnnotation.Parse(run.Out.Trim()).Gpus[0].Uuid);
    }
}
