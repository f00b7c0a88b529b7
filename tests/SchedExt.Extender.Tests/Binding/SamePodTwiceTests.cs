using System.Numerics;
using k8s.Models;
using SchedExt.Extender.State;
using SchedExt.Testing;
using SchedExt.Topology.Annotation;
using SchedExt.Topology.Requests;
using SchedExt.Topology.Shapes;

namespace SchedExt.Extender.Tests.Binding;

/// <summary>
/// The same pod bound through both replicas at once (a scheduler retry after its HTTP timeout, or a leader change):
/// exactly one Binding, and the pod keeps its assignment and every claim.
/// </summary>
public sealed class SamePodTwiceTests : IAsyncLifetime
{
    private const string Ns = "race2";
    private FakeApiServer _api = null!;

    public async Task InitializeAsync() => _api = await FakeApiServer.StartAsync();

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task Bind_SamePodOnBothReplicasAtOnce_KeepsAssignmentAndClaims()
    {
        for (var i = 0; i < 40; i++)
        {
            _api.PutNode(KubeObjects.Node($"node-{i:D2}", 8, TopologyAnnotation.Serialize(ReferenceTopologies.HgxH200)));
        }

        var pods = new List<(V1Pod Pod, string Node)>();
        for (var i = 0; i < 40; i++)
        {
            var pod = ApiBackedExtender.PendingGpuPod(Ns, $"pod-{i:D4}", 2);
            _api.PutPod(pod);
            pods.Add((pod, $"node-{i:D2}"));
        }

        await using var a = new ApiBackedExtender(_api);
        await using var b = new ApiBackedExtender(_api);
        using var clientA = a.CreateClient();
        using var clientB = b.CreateClient();
        await a.WaitSyncedAsync(40);
        await b.WaitSyncedAsync(40);

        var results = (await Task.WhenAll(pods.SelectMany(p => new[] { clientA, clientB }.Select(client => ApiBackedExtender.PostBindAsync(client, p.Pod, p.Node)))))
            .Select(r => r.Body).ToList();

        // Every pod ends bound exactly once, with its two GPUs recorded and claimed by it.
        var bound = _api.Pods().Where(p => p.Spec.NodeName is not null).ToList();
        Assert.Equal(40, bound.Count);
        Assert.Equal(40, _api.BindingsCreated);
        foreach (var pod in bound)
        {
            Assert.True(AssignedGpus.TryParse(pod.Metadata.Annotations[SchedExtKeys.AssignedGpus], out var mask), pod.Metadata.Name);
            Assert.Equal(2, BitOperations.PopCount(mask));
            var claims = _api.Leases().Where(l => l.Spec.HolderIdentity == pod.Metadata.Uid).Select(l => l.Metadata.Name).Order(StringComparer.Ordinal);
            Assert.Equal(Enumerable.Range(0, 64).Where(g => (mask & (1UL << g)) != 0).Select(g => $"gpu.{pod.Spec.NodeName}.{g}").Order(StringComparer.Ordinal), claims);
        }

        Assert.Equal(80, _api.Leases().Count);
        Assert.Contains(results, r => r == """{"Error":""}""");
    }
}
