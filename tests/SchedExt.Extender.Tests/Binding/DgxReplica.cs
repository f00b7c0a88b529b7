using k8s.Models;
using SchedExt.Testing;
using SchedExt.Topology.Annotation;
using SchedExt.Topology.Requests;
using SchedExt.Topology.Shapes;

namespace SchedExt.Extender.Tests.Binding;

/// <summary>A fake API server holding one bare-metal DGX-1 node, "dgx", and a pod, with one synced extender replica on it and a client of that replica.</summary>
internal sealed class DgxReplica : IAsyncDisposable
{
    private DgxReplica(FakeApiServer api, ApiBackedExtender replica)
    {
        Api = api;
        Replica = replica;
        Client = replica.CreateClient();
    }

    public FakeApiServer Api { get; }

    public ApiBackedExtender Replica { get; }

    public HttpClient Client { get; }

    /// <summary>
    /// Starts the API server and the replica, both on <paramref name="time"/> when given, the replica's API client giving
    /// up after <paramref name="clientTimeout"/> when given, and waits for the replica's first sync.
    /// </summary>
    public static async Task<DgxReplica> StartAsync(V1Pod pod, TimeProvider? time = null, TimeSpan? clientTimeout = null)
    {
        var api = await FakeApiServer.StartAsync(time);
        api.PutNode(KubeObjects.Node("dgx", 8, TopologyAnnotation.Serialize(ReferenceTopologies.Dgx1V100), new Dictionary<string, string> { [SchedExtKeys.Machine] = "bare-metal" }));
        api.PutPod(pod);
        var dgx = new DgxReplica(api, new ApiBackedExtender(api, time, clientTimeout));
        await dgx.Replica.WaitSyncedAsync(1);
        return dgx;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Replica.DisposeAsync();
        await Api.DisposeAsync();
    }
}
