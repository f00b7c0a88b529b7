using System.Net;
using Microsoft.Extensions.Time.Testing;
using SchedExt.Testing;
using SchedExt.Topology.Annotation;
using SchedExt.Topology.Requests;

namespace SchedExt.Cli.Tests;

/// <summary>The node agent loop (`--interval`) on a fake clock against the fake API server.</summary>
public sealed class TopoAgentTests : IAsyncLifetime
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("schedext-agent-");
    private FakeApiServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeApiServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _temp.Delete(recursive: true);
    }

    [Fact]
    public async Task Agent_HardwareChangesBetweenTicks_PatchesOnlyWhenItChangedAndStopsCleanly()
    {
        var (topo, time) = NodeAndTopologyFile();
        using var stop = new CancellationTokenSource();

        var agent = CliRun.RunAsync(
            ["topo", "-f", topo, "--node", "gpu-1", "--apply", "--interval", "10m", "--kubeconfig", _server.WriteKubeconfig(_temp.FullName)],
            time: time,
            cancellationToken: stop.Token);

        await TicksUntil(time, () => _server.RequestLog.Count >= 3); // tick 1: GET, PATCH; tick 2: GET (same hardware)
        Assert.Equal(["GET", "PATCH", "GET"], _server.RequestLog.Select(r => r.Split(' ')[0]).Take(3));
        Assert.Equal(12, TopologyAnnotation.Parse(Topology()).Nics.Count);

        // Tick 2 has read the file (it reads before it asks the API server), so the next tick sees the new hardware.
        File.Copy(TestData.PathOf("nvidia-smi-topo", "dgx1-v100_hybrid-cube-mesh_msccl-tools.txt"), topo, overwrite: true);
        // Waits on the stored annotation, not the patch count: the fake records a PATCH before it applies it.
        await TicksUntil(time, () => TopologyAnnotation.Parse(Topology()).Nics.Count == 4);
        Assert.Equal(2, _server.Patches("PATCH nodes").Count);

        await stop.CancelAsync();
        var run = await agent.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal(string.Empty, run.Out);
        Assert.Contains("node gpu-1: schedext.io/topology updated (8 GPUs, 12 NICs)", run.Error, StringComparison.Ordinal);
        Assert.Contains("node gpu-1: schedext.io/topology unchanged (8 GPUs, 12 NICs)", run.Error, StringComparison.Ordinal);
        Assert.Contains("node gpu-1: schedext.io/topology updated (8 GPUs, 4 NICs)", run.Error, StringComparison.Ordinal);
        Assert.EndsWith("node gpu-1: stopped", run.Error.TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Agent_ApiServerRefuses_KeepsRunningAndRetriesNextTick()
    {
        _server.PutNode(KubeObjects.Node("gpu-1", gpus: 8));
        _server.FailNext("GET nodes", 2, HttpStatusCode.ServiceUnavailable);
        var time = new FakeTimeProvider();
        using var stop = new CancellationTokenSource();

        var agent = CliRun.RunAsync(
            ["topo", "-f", TestData.PathOf("nvidia-smi-topo", "hgx-h200_8gpu_12nic_distributedai.txt"), "--node", "gpu-1", "--apply", "--interval", "1m", "--kubeconfig", _server.WriteKubeconfig(_temp.FullName)],
            time: time,
            cancellationToken: stop.Token);

        // Two ticks are refused; the agent must still be running to read and patch on the third.
        await TicksUntil(time, () => _server.Patches("PATCH nodes").Count > 0);

        await stop.CancelAsync();
        var run = await agent.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Contains("warning: cannot read node gpu-1: API server answered 503", run.Error, StringComparison.Ordinal);
        Assert.Contains("retrying in 00:01:00", run.Error, StringComparison.Ordinal);
        Assert.True(_server.Requests("GET nodes") >= 3, $"{_server.Requests("GET nodes")} reads");
    }

    [Fact]
    public async Task Agent_NodeMissing_ExitsWithNodeNotFound()
    {
        // Not a passing API failure: the agent ends, so its pod's restarts show the misconfiguration (a wrong --node).
        var time = new FakeTimeProvider();
        var agent = CliRun.RunAsync(
            ["topo", "-f", TestData.PathOf("nvidia-smi-topo", "hgx-h200_8gpu_12nic_distributedai.txt"), "--node", "gpu-9", "--apply", "--interval", "1m", "--kubeconfig", _server.WriteKubeconfig(_temp.FullName)],
            time: time);

        var run = await agent.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(ExitCodes.NodeNotFound, run.ExitCode);
        Assert.Contains("node gpu-9 not found", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Agent_TopologyOutputBecomesUnreadable_ExitsWithInputInvalidAndKeepsTheAnnotation()
    {
        var (topo, time) = NodeAndTopologyFile();
        var agent = CliRun.RunAsync(
            ["topo", "-f", topo, "--node", "gpu-1", "--apply", "--interval", "10m", "--kubeconfig", _server.WriteKubeconfig(_temp.FullName)],
            time: time);
        await TicksUntil(time, () => _server.Patches("PATCH nodes").Count == 1);
        var written = Topology();

        // A driver upgrade gone wrong: nvidia-smi prints something that is not a topology matrix.
        await File.WriteAllTextAsync(topo, "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n");
        await TicksUntil(time, () => agent.IsCompleted);
        var run = await agent;

        Assert.Equal(ExitCodes.InputInvalid, run.ExitCode);
        Assert.Equal(written, Topology());
        Assert.Single(_server.Patches("PATCH nodes"));
    }

    /// <summary>Node gpu-1 (8 GPUs) in the API server, and a copy of the HGX H200 matrix the test may rewrite.</summary>
    private (string Path, FakeTimeProvider Time) NodeAndTopologyFile()
    {
        _server.PutNode(KubeObjects.Node("gpu-1", gpus: 8));
        var topo = Path.Combine(_temp.FullName, "topo.txt");
        File.Copy(TestData.PathOf("nvidia-smi-topo", "hgx-h200_8gpu_12nic_distributedai.txt"), topo);
        return (topo, new FakeTimeProvider());
    }

    private string Topology() => _server.GetNode("gpu-1")!.Metadata.Annotations[SchedExtKeys.Topology];

    // The agent's next tick waits on the fake clock; keep moving it until the condition holds. Moving it while the
    // agent is still busy only makes the next wait start later on the fake clock, never lost.
    private static async Task TicksUntil(FakeTimeProvider time, Func<bool> condition)
    {
        for (var i = 0; i < 600 && !condition(); i++)
        {
            time.Advance(Interval);
            await Task.Delay(50);
        }

        Assert.True(condition(), "the agent did not get there within 600 ticks");
    }
}
