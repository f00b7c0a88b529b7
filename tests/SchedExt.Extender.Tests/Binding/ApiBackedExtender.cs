using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SchedExt.Extender.Binding;
using SchedExt.Extender.State;
using SchedExt.Testing;

namespace SchedExt.Extender.Tests.Binding;

/// <summary>
/// An in-process extender replica in Kubernetes mode whose API client points at a <see cref="FakeApiServer"/>, on
/// <paramref name="time"/> when given, with a client that gives up on a request after <paramref name="clientTimeout"/> when given.
/// </summary>
public sealed class ApiBackedExtender(FakeApiServer api, TimeProvider? time = null, TimeSpan? clientTimeout = null) : WebApplicationFactory<Program>
{
    internal ClusterState State => Services.GetRequiredService<ClusterState>();

    /// <summary>Code the tests run around this replica's Binding calls, to order two replicas' steps exactly.</summary>
    internal BindHooks Hooks { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        if (time is not null)
        {
            // A test on a fake clock jumps minutes at a time: every such jump would end the watches on the server's side
            // (their timeout) and abandon them on the replica's (their silence limit) at the same instant. Watches that
            // outlast any jump keep these tests about what they test; reconnects are covered on the real clock
            // (KubernetesClusterSourceTests).
            builder.UseSetting("SchedExt:Extender:WatchTimeout", "1.00:00:00");
        }

        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<IKubernetes>(_ => clientTimeout is { } timeout ? api.CreateClient(timeout) : api.CreateClient());
            if (time is not null)
            {
                services.AddSingleton(time);
            }

            services.AddSingleton<IClusterApi>(sp => new HookedClusterApi(
                new KubernetesClusterApi(sp.GetRequiredService<IKubernetes>(), sp.GetRequiredService<IOptionsMonitor<ExtenderOptions>>(), sp.GetRequiredService<TimeProvider>()),
                Hooks));
        });
    }

    /// <summary>Waits until the replica has synced and sees <paramref name="nodes"/> GPU nodes.</summary>
    public async Task WaitSyncedAsync(int nodes)
    {
        for (var i = 0; i < 1200 && !(State.Current.Synced && State.Current.Nodes.Count == nodes); i++)
        {
            await Task.Delay(25);
        }

        Assert.True(State.Current.Synced && State.Current.Nodes.Count == nodes, $"replica did not sync {nodes} nodes");
    }

    /// <summary>A pending (unbound) pod asking for <paramref name="gpus"/> GPUs, as the API server would hold it before binding.</summary>
    public static V1Pod PendingGpuPod(string ns, string name, int gpus)
    {
        var pod = KubeObjects.Pod(ns, name, null, null, "Pending");
        pod.Spec.Containers[0].Resources = new V1ResourceRequirements
        {
            Limits = new Dictionary<string, ResourceQuantity> { [Topology.Requests.SchedExtKeys.GpuResource] = new(gpus.ToString(System.Globalization.CultureInfo.InvariantCulture)) },
        };
        return pod;
    }

    /// <summary>Posts kube-scheduler's bind call for <paramref name="pod"/> to <paramref name="node"/>; returns the HTTP status and body.</summary>
    public static async Task<(int Status, string Body)> PostBindAsync(HttpClient client, V1Pod pod, string node)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(pod);
        var json = $$"""{"PodName":"{{pod.Metadata.Name}}","PodNamespace":"{{pod.Metadata.NamespaceProperty}}","PodUID":"{{pod.Metadata.Uid}}","Node":"{{node}}"}""";
        using var body = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        using var response = await client.PostAsync("/bind", body);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>A GPU claim Lease as a replica writes it, for tests that plant claims.</summary>
    public static V1Lease Claim(string node, int gpu, string ns, string pod, string uid) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = $"gpu.{node}.{gpu}",
            NamespaceProperty = "schedext-system",
            Labels = new Dictionary<string, string> { ["app.kubernetes.io/managed-by"] = "schedext" },
            Annotations = new Dictionary<string, string> { ["schedext.io/pod"] = $"{ns}/{pod}", ["schedext.io/pod-uid"] = uid, ["schedext.io/node"] = node, ["schedext.io/gpu"] = gpu.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        },
        Spec = new V1LeaseSpec { HolderIdentity = uid },
    };
}
