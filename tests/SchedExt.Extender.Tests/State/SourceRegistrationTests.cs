using k8s;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SchedExt.Extender.Sources;
using SchedExt.Extender.State;
using SchedExt.Topology.Shapes;

namespace SchedExt.Extender.Tests.State;

public class SourceRegistrationTests
{
    [Theory]
    [InlineData("snapshot file wins over demo", "cluster.yaml", "true", nameof(ClusterSourceKind.SnapshotFile), typeof(SnapshotFileSource))]
    [InlineData("demo", null, "true", nameof(ClusterSourceKind.Demo), typeof(DemoClusterSource))]
    [InlineData("API server by default", null, null, nameof(ClusterSourceKind.Kubernetes), typeof(KubernetesClusterSource))]
    public void AddClusterSource_Configuration_RegistersOneSource(string name, string? snapshotFile, string? demo, string expected, Type source)
    {
        Assert.NotNull(name);
        var kind = Enum.Parse<ClusterSourceKind>(expected);
        var services = Register(("SchedExt:Extender:SnapshotFile", snapshotFile), ("SchedExt:Extender:Demo", demo));

        Assert.Equal([source], services.Where(d => d.ServiceType == typeof(IHostedService)).Select(d => d.ImplementationType));
        Assert.Equal(kind == ClusterSourceKind.Kubernetes, services.Any(d => d.ServiceType == typeof(IKubernetes)));
        using var provider = services.BuildServiceProvider();
        Assert.Equal(kind, provider.GetRequiredService<ClusterSourceInfo>().Kind);
        Assert.Same(provider.GetRequiredService<ShapeCatalog>(), provider.GetRequiredService<ClusterState>().Catalog);
    }

    [Fact]
    public async Task AddClusterSource_Demo_StartsSyncedWithTheDemoCluster()
    {
        await using var provider = Register(("SchedExt:Extender:Demo", "true")).BuildServiceProvider();
        var source = Assert.Single(provider.GetServices<IHostedService>());

        await source.StartAsync(CancellationToken.None);
        await source.StopAsync(CancellationToken.None);

        var snapshot = provider.GetRequiredService<ClusterState>().Current;
        Assert.True(snapshot.Synced);
        Assert.Equal(DemoCluster.Build().Nodes.Count, snapshot.Nodes.Count);
    }

    [Fact]
    public void AddClusterSource_ExistingTimeProviderAndClient_Kept()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        using var client = new Kubernetes(new KubernetesClientConfiguration { Host = "http://127.0.0.1:1" });
        var services = new ServiceCollection().AddLogging().AddSingleton<TimeProvider>(time).AddSingleton<IKubernetes>(client);

        services.AddClusterSource(new ConfigurationBuilder().Build());

        using var provider = services.BuildServiceProvider();
        Assert.Same(time, provider.GetRequiredService<TimeProvider>());
        Assert.Same(client, provider.GetRequiredService<IKubernetes>());
        Assert.IsType<KubernetesClusterSource>(Assert.Single(provider.GetServices<IHostedService>()));
    }

    private static ServiceCollection Register(params (string Key, string? Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Where(s => s.Value is not null).Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddClusterSource(configuration);
        return services;
    }
}
