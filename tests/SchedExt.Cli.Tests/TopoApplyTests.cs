using System.Net;
using System.Text.Json.Nodes;
using k8s.Models;
using SchedExt.Testing;
using SchedExt.Topology.Requests;

namespace SchedExt.Cli.Tests;

/// <summary>`--node --apply` against the shared in-process fake API server, which records every request.</summary>
public sealed class TopoApplyTests : IAsyncLifetime
{
    private static readonly string HgxH200 = TestData.PathOf("nvidia-smi-topo", "hgx-h200_8gpu_12nic_distributedai.txt");
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("schedext-cli-");
    private FakeApiServer _server = null!;
    private string _kubeconfig = string.Empty;

    public async Task InitializeAsync()
    {
        _server = await FakeApiServer.StartAsync();
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
        AddNode("gpu-1", ("team", "ml"));

        var run = await ApplyAsync("gpu-1");

        Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());
        Assert.Equal(["GET /api/v1/nodes/gpu-1", "PATCH /api/v1/nodes/gpu-1"], _server.RequestLog);
        var (contentType, body) = Assert.Single(NodePatches);
        Assert.StartsWith("application/merge-patch+json", contentType, StringComparison.Ordinal);
        var annotations = JsonNode.Parse(body)!["metadata"]!["annotations"]!.AsObject();
        var (key, value) = Assert.Single(annotations);
        Assert.Equal(SchedExtKeys.Topology, key);
        Assert.Equal(run.Out.Trim(), value!.GetValue<string>());
        Assert.Equal(run.Out.Trim(), Annotation("gpu-1", SchedExtKeys.Topology));
        Assert.Equal("ml", Annotation("gpu-1", "team"));
        Assert.Contains("node gpu-1: schedext.io/topology updated (8 GPUs, 12 NICs)", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Apply_NodeAlreadyAnnotated_DoesNotPatch()
    {
        AddNode("gpu-1");
        var first = await ApplyAsync("gpu-1");

        var second = await ApplyAsync("gpu-1");

        Assert.Equal(ExitCodes.Ok, second.ExitCode);
        Assert.Equal(first.Out, second.Out);
        Assert.Single(NodePatches);
        Assert.Contains("schedext.io/topology unchanged", second.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("unreadable value", "not json")]
    [InlineData("other hardware", """{"v":1,"gpus":[{"i":0}],"nics":[],"gpuLinks":["X"],"nicLinks":[]}""")]
    public async Task Apply_NodeWithStaleAnnotation_ReplacesIt(string name, string stale)
    {
        AddNode("gpu-1", (SchedExtKeys.Topology, stale));

        var run = await ApplyAsync("gpu-1");

        Assert.True(run.ExitCode == ExitCodes.Ok, $"{name}: {run}");
        Assert.Single(NodePatches);
        Assert.Equal(run.Out.Trim(), Annotation("gpu-1", SchedExtKeys.Topology));
    }

    [Fact]
    public async Task Apply_UnknownNode_ExitsNodeNotFound()
    {
        var run = await ApplyAsync("gpu-9");

        Assert.Equal(ExitCodes.NodeNotFound, run.ExitCode);
        Assert.Contains("node gpu-9 not found", run.Error, StringComparison.Ordinal);
        Assert.Empty(NodePatches);
    }

    [Fact]
    public async Task Apply_Forbidden_ExitsClusterErrorNamingTheNeededVerbs()
    {
        AddNode("gpu-1");
        _server.FailNext("GET nodes", 1, HttpStatusCode.Forbidden);

        var run = await ApplyAsync("gpu-1");

        Assert.Equal(ExitCodes.ClusterError, run.ExitCode);
        Assert.Contains("cannot read node gpu-1: 403", run.Error, StringComparison.Ordinal);
        Assert.Contains("nodes get and patch", run.Error, StringComparison.Ordinal);
        Assert.Empty(NodePatches);
    }

    [Fact]
    public async Task Apply_ApiServerDown_ExitsClusterError()
    {
        // Port 1 on loopback: privileged, so no test or unprivileged process listens there.
        var kubeconfig = await File.ReadAllTextAsync(_kubeconfig);
        await File.WriteAllTextAsync(_kubeconfig, kubeconfig.Replace(_server.Url, "http://127.0.0.1:1", StringComparison.Ordinal));

        var run = await ApplyAsync("gpu-1");

        Assert.Equal(ExitCodes.ClusterError, run.ExitCode);
        Assert.Contains("API server unreachable", run.Error, StringComparison.Ordinal);
        Assert.Empty(_server.RequestLog);
    }

    private IReadOnlyList<(string ContentType, string Body)> NodePatches => _server.Patches("PATCH nodes");

    private void AddNode(string name, params (string Key, string Value)[] annotations)
    {
        var node = KubeObjects.Node(name, gpus: 8);
        node.Metadata.Annotations = annotations.ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal);
        _server.PutNode(node);
    }

    private string? Annotation(string node, string key) =>
        _server.GetNode(node)!.Metadata.Annotations is { } annotations && annotations.TryGetValue(key, out var value) ? value : null;

    private Task<CliRun> ApplyAsync(string node) =>
        CliRun.RunAsync(["topo", "-f", HgxH200, "--node", node, "--apply", "--kubeconfig", _kubeconfig]);
}
