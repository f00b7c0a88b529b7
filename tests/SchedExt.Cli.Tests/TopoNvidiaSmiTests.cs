using SchedExt.Testing;
using SchedExt.Topology.Annotation;

namespace SchedExt.Cli.Tests;

/// <summary>`schedext topo` without --file runs nvidia-smi (a stand-in script) and handles its failures.</summary>
// The stand-in nvidia-smi is a shell script; CI and the image are Linux.
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class TopoNvidiaSmiTests
{
    [Fact]
    public async Task Topo_RunsNvidiaSmi_AnnotationHasTopologyAndInventory()
    {
        using var smi = FakeNvidiaSmi.Printing(
            TestData.PathOf("nvidia-smi-topo", "hgx-h200_8gpu_12nic_distributedai.txt"),
            TestData.PathOf("cli-topo", "hgx-h200_query-gpu.csv"));

        var run = await CliRun.RunAsync(["topo", "--nvidia-smi", smi.Program]);

        Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());
        var topology = TopologyAnnotation.Parse(run.Out.Trim());
        Assert.Equal(8, topology.GpuCount);
        Assert.Equal("GPU-00000007-5d2c-4a7e-9c1b-7f3e2a9b0007", topology.Gpus[7].Uuid);
    }

    [Fact]
    public async Task Topo_NvidiaSmiFails_ExitsInputUnavailableWithItsMessage()
    {
        using var smi = new FakeNvidiaSmi("echo \"NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\" >&2; exit 9");

        var run = await CliRun.RunAsync(["topo", "--nvidia-smi", smi.Program]);

        Assert.Equal(ExitCodes.InputUnavailable, run.ExitCode);
        Assert.Contains("exited with 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Topo_NvidiaSmiHangs_IsKilledAndExitsInputUnavailable()
    {
        using var smi = new FakeNvidiaSmi("exec sleep 60");

        var run = await CliRun.RunAsync(["topo", "--nvidia-smi", smi.Program], processTimeout: TimeSpan.FromMilliseconds(300));

        Assert.Equal(ExitCodes.InputUnavailable, run.ExitCode);
        Assert.Contains("did not finish within", run.Error, StringComparison.Ordinal);
    }
}
