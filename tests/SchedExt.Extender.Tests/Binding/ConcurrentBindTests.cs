using System.Numerics;
using k8s.Models;
using SchedExt.Extender.State;
using SchedExt.Testing;
using SchedExt.Topology.Annotation;
using SchedExt.Topology.Requests;
using SchedExt.Topology.Shapes;

namespace SchedExt.Extender.Tests.Binding;

/// <summary>
/// No GPU is ever given to two pods: two extender replicas, each with its own watch-fed state, bind 1,000 pods at
/// once against one API server that enforces create-if-absent on the per-GPU claim Leases.
/// </summary>
public sealed class ConcurrentBindTests : IAsyncLifetime
{
    private const string Ns = "race";
    private FakeApiServer _api = null!;

    public async Task InitializeAsync() => _api = await FakeApiServer.StartAsync();

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task Bind_1000ConcurrentPodsOnTwoReplicas_NoGpuGivenTwiceAndNothingHalfDone()
    {
        // 60 nodes × 8 GPUs = 480 GPUs; 1,000 pods asking 1, 2 or 4 GPUs (≈ 2,300 wanted) aimed at random nodes, so
        // replicas collide constantly and most binds must fail cleanly.
        var random = new Random(42);
        for (var i = 0; i < 60; i++)
        {
            var topology = i % 2 == 0 ? ReferenceTopologies.Dgx1V100 : ReferenceTopologies.HgxH200;
            _api.PutNode(KubeObjects.Node($"node-{i:D2}", 8, TopologyAnnotation.Serialize(topology)));
        }

        var pods = new List<(V1Pod Pod, string Name, int Gpus, string Node)>();
        for (var i = 0; i < 1000; i++)
        {
            var gpus = (int)Math.Pow(2, random.Next(3));
            var pod = ApiBackedExtender.PendingGpuPod(Ns, $"pod-{i:D4}", gpus);
            pod.Metadata.Annotations[SchedExtKeys.Interconnect] = gpus == 4 ? "nvlink" : "any";
            _api.PutPod(pod);
            pods.Add((pod, pod.Metadata.Name, gpus, $"node-{random.Next(60):D2}"));
        }

        await using var a = new ApiBackedExtender(_api);
        await using var b = new ApiBackedExtender(_api);
        using var clientA = a.CreateClient();
        using var clientB = b.CreateClient();
        await a.WaitSyncedAsync(60);
        await b.WaitSyncedAsync(60);

        var results = await Task.WhenAll(pods.Select((p, i) => ApiBackedExtender.PostBindAsync(i % 2 == 0 ? clientA : clientB, p.Pod, p.Node)));

        Assert.All(results, r => Assert.Equal(200, r.Item1));
        var succeeded = results.Count(r => r.Item2 == """{"Error":""}""");

        var bound = _api.Pods().Where(p => p.Spec.NodeName is not null).ToList();
        Assert.Equal(succeeded, bound.Count);
        Assert.True(succeeded > 100, $"only {succeeded} binds succeeded");

        // 1. Disjoint GPUs per node, and each pod got exactly what it asked for.
        var used = new Dictionary<string, ulong>();
        foreach (var pod in bound)
        {
            Assert.True(AssignedGpus.TryParse(pod.Metadata.Annotations[SchedExtKeys.AssignedGpus], out var mask));
            var wanted = pods.Single(p => p.Name == pod.Metadata.Name).Gpus;
            Assert.Equal(wanted, BitOperations.PopCount(mask));
            var node = pod.Spec.NodeName!;
            Assert.True((used.GetValueOrDefault(node) & mask) == 0, $"GPU given twice on {node}: {pod.Metadata.Name}");
            used[node] = used.GetValueOrDefault(node) | mask;
        }

        // 2. Nothing half-done: no unbound pod keeps an assignment, and every claim belongs to a bound pod's GPU.
        Assert.DoesNotContain(_api.Pods(), p => p.Spec.NodeName is null && p.Metadata.Annotations.ContainsKey(SchedExtKeys.AssignedGpus));
        var byUid = bound.ToDictionary(p => p.Metadata.Uid);
        var leases = _api.Leases();
        Assert.Equal(bound.Sum(p => BitOperations.PopCount(AssignedGpus.TryParse(p.Metadata.Annotations[SchedExtKeys.AssignedGpus], out var m) ? m : 0)), leases.Count);
        foreach (var lease in leases)
        {
            Assert.True(byUid.TryGetValue(lease.Spec.HolderIdentity, out var holder), $"claim {lease.Metadata.Name} held by an unbound pod");
            Assert.StartsWith($"gpu.{holder.Spec.NodeName}.", lease.Metadata.Name, StringComparison.Ordinal);
        }

        // 3. Every failure is a readable reason kube-scheduler can show, not an exception dump.
        Assert.All(results.Where(r => r.Item2 != """{"Error":""}"""), r => Assert.Matches("no longer fits|claimed by other pods|already bound", r.Item2));
    }
}
