using System.Text.Json.Nodes;
using SchedExt.Testing;
using SchedExt.Topology.Requests;

namespace SchedExt.Cli.Tests;

/// <summary>`--node --apply` against an in-process fake API server that records every request.</summary>
public sealed class TopoApplyTests : IAsyncLifetime
{
    private static readonly string HgxH200 = TestData.PathOf("nvidia-smi-topo", "hgx-h200_8gpu_12nic_distributedai.txt");
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("schedext-cli-");
    private FakeKubeApiServer _server = null!;
    private string _kubeconfig = string.Empty;

    public async Task InitializeAsync()
    {
        _server = await FakeKubeApiServer.StartAsync();
        _kubeconfig = _server.WriteKubeconfig(_temp.FullName);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _temp.Delete(recursive: true);
    }

    [Fact]
    public async Task Apply_NodeWithoutAnnotation_PatchesOnlyTheTopologyKeyWithMergePatch()
    {
        _server.AddNode("gpu-1", new Dictionary<string, string> { ["team"] = "ml" });

        var run = await ApplyAsync("gpu-1");

        Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());
        Assert.Equal(["GET /api/v1/nodes/gpu-1", "PATCH /api/v1/nodes/gpu-1"], _server.Requests);
        var (contentType, body) = Assert.Single(_server.Patches);
        Assert.StartsWith("application/merge-patch+json", contentType, StringComparison.Ordinal);
        var annotations = JsonNode.Parse(body)!["metadata"]!["annotations"]!.AsObject();
        var (key, value) = Assert.Single(annotations);
        Assert.Equal(SchedExtKeys.Topology, key);
        Assert.Equal(run.Out.Trim(), value!.GetValue<string>());
        Assert.Equal(run.Out.Trim(), _server.Annotation("gpu-1", SchedExtKeys.Topology));
        Assert.Equal("ml", _server.Annotation("gpu-1", "team"));
        Assert.Contains("node gpu-1: schedext.io/topology updated (8 GPUs, 12 NICs)", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Apply_NodeAlreadyAnnotated_DoesNotPatch()
    {
        _server.AddNode("gpu-1");
        var first = await ApplyAsync("gpu-1");

        var second = await ApplyAsync("gpu-1");

        Assert.Equal(ExitCodes.Ok, second.ExitCode);
        Assert.Equal(first.Out, second.Out);
        Assert.Single(_server.Patches);
        Assert.Contains("schedext.io/topology unchanged", second.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("unreadable value", "not json")]
    [InlineData("other hardware", """{"v":1,"gpus":[{"i":0}],"nics":[],"gpuLinks":["X"],"nicLinks":[]}""")]
    public async Task Apply_NodeWithStaleAnnotation_ReplacesIt(string name, string stale)
    {
        _server.AddNode("gpu-1", new Dictionary<string, string> { [SchedExtKeys.Topology] = stale });

        var run = await ApplyAsync("gpu-1");

        Assert.True(run.ExitCode == ExitCodes.Ok, $"{name}: {run}");
        Assert.Single(_server.Patches);
        Assert.Equal(run.Out.Trim(), _server.Annotation("gpu-1", SchedExtKeys.Topology));
    }

    [Fact]
    public async Task Apply_UnknownNode_ExitsNodeNotFound()
    {
        var run = await ApplyAsync("gpu-9");

        Assert.Equal(ExitCodes.NodeNotFound, run.ExitCode);
        Assert.Contains("node gpu-9 not found", run.Error, StringComparison.Ordinal);
        Assert.Empty(_server.Patches);
    }

    [Fact]
    public async Task Apply_Forbidden_ExitsClusterErrorNamingTheNeededVerbs()
    {
        _server.AddNode("gpu-1");
        _server.FailWith = 403;

        var run = await ApplyAsync("gpu-1");

        Assert.Equal(ExitCodes.ClusterError, run.ExitCode);
        Assert.Contains("cannot read node gpu-1: 403", run.Error, StringComparison.Ordinal);
        Assert.Contains("nodes get and patch", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Apply_ApiServerDown_ExitsClusterError()
    {
        var kubeconfig = await File.ReadAllTextAsync(_kubeconfig);
        await _server.DisposeAsync();
        _server = await FakeKubeApiServer.StartAsync();
        // The old address no longer listens.
        await File.WriteAllTextAsync(_kubeconfig, kubeconfig);

        var run = await ApplyAsync("gpu-1");

        Assert.Equal(ExitCodes.ClusterError, run.ExitCode);
        Assert.Contains("API server unreachable", run.Error, StringComparison.Ordinal);
    }

    private Task<CliRun> ApplyAsync(string node) =>
        CliRun.RunAsync(["topo", "-f", HgxH200, "--node", node, "--apply", "--kubeconfig", _kubeconfig]);
}
