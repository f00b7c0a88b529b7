using System.Globalization;
using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using SchedExt.Topology.Model;
using SchedExt.Topology.Requests;

namespace SchedExt.E2E;

/// <summary>One test's corner of the cluster: its own namespace, fake GPU nodes and pods, all removed on dispose.</summary>
/// <remarks>
/// Pods bound to a node without a kubelet never finish a graceful delete (nobody confirms the container stopped),
/// so they are deleted with grace period 0; then the fake nodes and the namespace go. Cleanup never waits on them.
/// </remarks>
public sealed class TestScope : IAsyncDisposable
{
    private const string FailedScheduling = "FailedScheduling";
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    private readonly IKubernetes _client;
    private readonly List<string> _nodes = [];

    private TestScope(IKubernetes client, string runId)
    {
        _client = client;
        RunId = runId;
        Namespace = "schedext-e2e-" + runId;
    }

    /// <summary>Short unique id of this test's objects (label and taint value of <see cref="FakeGpuNodes.RunKey"/>).</summary>
    public string RunId { get; }

    public string Namespace { get; }

    public IKubernetes Client => _client;

    public static async Task<TestScope> BeginAsync(E2ECluster cluster, string testName)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        cluster.RequireCluster();
        var runId = testName + "-" + Guid.NewGuid().ToString("N")[..6];
        var scope = new TestScope(cluster.Client, runId);
        await cluster.Client.CoreV1.CreateNamespaceAsync(new V1Namespace
        {
            Metadata = new V1ObjectMeta { Name = scope.Namespace, Labels = new Dictionary<string, string> { [FakeGpuNodes.RunKey] = runId } },
        }).ConfigureAwait(false);
        return scope;
    }

    /// <summary>Creates a fake GPU node named <c>e2e-&lt;run&gt;-&lt;suffix&gt;</c> with the given hardware.</summary>
    public async Task<string> AddNodeAsync(string suffix, NodeTopology topology, MachineKind machine)
    {
        ArgumentNullException.ThrowIfNull(topology);
        var name = $"e2e-{RunId}-{suffix}";
        var created = await _client.CoreV1.CreateNodeAsync(FakeGpuNodes.Node(name, RunId, topology, machine)).ConfigureAwait(false);
        _nodes.Add(name);
        if (created.Status?.Allocatable is null || !created.Status.Allocatable.ContainsKey(SchedExtKeys.GpuResource))
        {
            // Some API server versions drop status on create; the status subresource always takes it.
            var status = FakeGpuNodes.Allocatable(topology.GpuCount);
            var patch = new V1Node { Status = new V1NodeStatus { Capacity = status, Allocatable = status } };
            await _client.CoreV1.PatchNodeStatusAsync(new V1Patch(KubernetesJson.Serialize(patch), V1Patch.PatchType.MergePatch), name).ConfigureAwait(false);
        }

        return name;
    }

    public Task<V1Pod> CreatePodAsync(string name, int gpus, IReadOnlyDictionary<string, string>? annotations = null) =>
        _client.CoreV1.CreateNamespacedPodAsync(FakeGpuNodes.Pod(name, RunId, gpus, annotations), Namespace);

    public Task<V1Pod> ReadPodAsync(string name) => _client.CoreV1.ReadNamespacedPodAsync(name, Namespace);

    public async Task<IList<V1Pod>> ListPodsAsync() =>
        (await _client.CoreV1.ListNamespacedPodAsync(Namespace, labelSelector: $"{FakeGpuNodes.RunKey}={RunId}").ConfigureAwait(false)).Items;

    /// <summary>Waits until the pod is bound to a node, or fails naming its last scheduling event.</summary>
    public async Task<V1Pod> WaitForBindingAsync(string name, TimeSpan timeout)
    {
        var deadline = TimeProvider.System.GetUtcNow() + timeout;
        while (true)
        {
            var pod = await ReadPodAsync(name).ConfigureAwait(false);
            if (!string.IsNullOrEmpty(pod.Spec.NodeName))
            {
                return pod;
            }

            if (TimeProvider.System.GetUtcNow() > deadline)
            {
                var events = await SchedulingEventsAsync(name).ConfigureAwait(false);
                Assert.Fail($"pod {Namespace}/{name} not bound within {timeout.TotalSeconds:0} s; events: {string.Join(" | ", events)}");
            }

            await Task.Delay(PollInterval).ConfigureAwait(false);
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="timeout"/> passes; returns whether it held.</summary>
    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = TimeProvider.System.GetUtcNow() + timeout;
        while (true)
        {
            if (await condition().ConfigureAwait(false))
            {
                return true;
            }

            if (TimeProvider.System.GetUtcNow() > deadline)
            {
                return false;
            }

            await Task.Delay(PollInterval).ConfigureAwait(false);
        }
    }

    /// <summary>Messages of the pod's FailedScheduling events, newest last.</summary>
    public async Task<IReadOnlyList<string>> SchedulingEventsAsync(string podName)
    {
        var list = await _client.CoreV1.ListNamespacedEventAsync(Namespace, fieldSelector: $"involvedObject.name={podName}").ConfigureAwait(false);
        return [.. list.Items
            .Where(e => e.Reason == FailedScheduling)
            .OrderBy(e => e.LastTimestamp ?? e.EventTime ?? e.Metadata.CreationTimestamp)
            .Select(e => e.Message)];
    }

    /// <summary>Names of the scope's pods that have at least one FailedScheduling event: the scheduler tried them and found no node.</summary>
    public async Task<IReadOnlySet<string>> PodsFailedSchedulingAsync()
    {
        var list = await _client.CoreV1.ListNamespacedEventAsync(Namespace).ConfigureAwait(false);
        return list.Items
            .Where(e => e.Reason == FailedScheduling && e.InvolvedObject?.Kind == "Pod")
            .Select(e => e.InvolvedObject.Name)
            .ToHashSet(StringComparer.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        // Force-delete first: a pod on a kubelet-less node would otherwise hold its namespace in Terminating forever.
        await IgnoreNotFound(() => _client.CoreV1.DeleteCollectionNamespacedPodAsync(Namespace, gracePeriodSeconds: 0)).ConfigureAwait(false);
        foreach (var node in _nodes)
        {
            await IgnoreNotFound(() => _client.CoreV1.DeleteNodeAsync(node, gracePeriodSeconds: 0)).ConfigureAwait(false);
        }

        await IgnoreNotFound(() => _client.CoreV1.DeleteNamespaceAsync(Namespace, gracePeriodSeconds: 0)).ConfigureAwait(false);
    }

    private static async Task IgnoreNotFound<T>(Func<Task<T>> delete)
    {
        try
        {
            await delete().ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            // Already gone: cleanup is idempotent.
        }
    }

    /// <summary>A pod name unique within the scope, e.g. <c>burst-07</c>.</summary>
    public static string PodName(string prefix, int i) => prefix + "-" + i.ToString("00", CultureInfo.InvariantCulture);
}
