using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SchedExt.Testing;
using SchedExt.Topology.Requests;
using SchedExt.Webhook.Feasibility;

namespace SchedExt.Webhook.Tests;

/// <summary>The snapshot file as the webhook starts: read by kind like the extender, and a bad one never stops the start.</summary>
public sealed class SnapshotStartupTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("schedext-snapshot-start-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("no apiVersion", "kind: Node\nmetadata: {name: a}\nstatus: {allocatable: {nvidia.com/gpu: \"8\"}}\n")]
    [InlineData("unknown apiVersion", "apiVersion: example.com/v9\nkind: Node\nmetadata: {name: a}\nstatus: {allocatable: {nvidia.com/gpu: \"8\"}}\n")]
    [InlineData("list items without apiVersion", "kind: List\nitems:\n- kind: Node\n  metadata: {name: a}\n  status: {allocatable: {nvidia.com/gpu: \"8\"}}\n- kind: Namespace\n  metadata: {name: team}\n")]
    public async Task Start_ObjectWithoutOrWithUnknownApiVersion_StartsAndReadsItByKind(string name, string content)
    {
        // Once a KeyNotFoundException from KubernetesClient's apiVersion lookup that escaped the host's start.
        using var host = new WebhookHost(TestData.ReadText("webhook", "policy.yaml"), Write(content));

        using var ready = await host.Client.GetAsync(new Uri("/readyz", UriKind.Relative));

        Assert.True(ready.StatusCode == HttpStatusCode.OK, name);
        Assert.Equal("a", Assert.Single(host.Services.GetRequiredService<ClusterView>().Current.Shapes).ExampleNode);
    }

    [Theory]
    [InlineData("yaml syntax", "kind: Node\nmetadata: [unclosed\n", "While parsing")]
    [InlineData("bad field in a node", "apiVersion: v1\nkind: Node\nmetadata: {name: gpu-9}\nstatus: {allocatable: [1, 2]}\n", "Node 'gpu-9'")]
    [InlineData("quantity not a number", "apiVersion: v1\nkind: Node\nmetadata: {name: gpu-8}\nstatus: {allocatable: {nvidia.com/gpu: abc}}\n", "Node 'gpu-8'")]
    public async Task Start_BadSnapshotFile_StartsWithShapesUnknownAndLogsTheFileAndProblem(string name, string content, string problem)
    {
        var path = Write(content);
        var logs = new LogCapture();
        using var host = new WebhookHost(TestData.ReadText("webhook", "policy.yaml"), path, services: s => s.AddSingleton<ILoggerProvider>(logs));

        using var ready = await host.Client.GetAsync(new Uri("/readyz", UriKind.Relative));
        var review = await host.PostAsync(Reviews.OptedIn((SchedExtKeys.Gpus, "16")).ToJsonString());

        // Not ready (no shapes yet), but serving: feasibility is skipped, the pod is patched, not blocked.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.True(review.Allowed, name);
        Assert.NotNull(review.PatchJson);
        var logged = Assert.Single(logs.Messages(303));
        Assert.Contains(path, logged, StringComparison.Ordinal);
        Assert.True(logged.Contains(problem, StringComparison.Ordinal), $"{name}: {logged}");
    }

    private string Write(string content)
    {
        var path = Path.Combine(_dir, "cluster.yaml");
        File.WriteAllText(path, content);
        return path;
    }
}
