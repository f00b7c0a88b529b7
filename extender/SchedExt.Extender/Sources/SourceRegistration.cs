using k8s;
using Microsoft.Extensions.DependencyInjection.Extensions;
using SchedExt.Extender.State;
using SchedExt.Topology.Shapes;

namespace SchedExt.Extender.Sources;

/// <summary>Where the cluster state comes from.</summary>
internal enum ClusterSourceKind
{
    /// <summary>List and watch of the API server; readiness should fail when it goes silent (<see cref="ExtenderOptions.StaleAfter"/>).</summary>
    Kubernetes,

    /// <summary>A snapshot file (<see cref="ExtenderOptions.SnapshotFile"/>), reloaded on change.</summary>
    SnapshotFile,

    /// <summary>The built-in demo cluster (<see cref="ExtenderOptions.Demo"/>).</summary>
    Demo,
}

/// <summary>The chosen cluster source and a human description of it (for logs and the status page).</summary>
internal sealed record ClusterSourceInfo(ClusterSourceKind Kind, string Description);

/// <summary>Registers the cluster state and the one source that feeds it.</summary>
internal static class SourceRegistration
{
    /// <summary>
    /// Registers <see cref="ClusterState"/>, <see cref="ShapeCatalog"/>, the readers, <see cref="ClusterSourceInfo"/>
    /// and the source chosen from <paramref name="configuration"/> (the root configuration; section
    /// <see cref="ExtenderOptions.Section"/>): <c>SnapshotFile</c> set → the file; else <c>Demo</c> = true → the demo
    /// cluster; else the API server through <see cref="IKubernetes"/> (in-cluster config, else KUBECONFIG /
    /// ~/.kube/config), registered here unless already registered.
    /// </summary>
    public static IServiceCollection AddClusterSource(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(ExtenderOptions.Section);
        services.AddOptions<ExtenderOptions>().Bind(section);
        var options = section.Get<ExtenderOptions>() ?? new ExtenderOptions();

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ShapeCatalog>();
        services.TryAddSingleton<ClusterState>();
        services.TryAddSingleton<NodeReader>();
        services.TryAddSingleton<PodReader>();

        ClusterSourceInfo info;
        if (!string.IsNullOrWhiteSpace(options.SnapshotFile))
        {
            info = new(ClusterSourceKind.SnapshotFile, $"snapshot file {Path.GetFullPath(options.SnapshotFile)}");
            services.AddHostedService<SnapshotFileSource>();
        }
        else if (options.Demo)
        {
            info = new(ClusterSourceKind.Demo, "the built-in demo cluster");
            services.AddHostedService<DemoClusterSource>();
        }
        else
        {
            services.TryAddSingleton<IKubernetes>(_ => new Kubernetes(KubernetesClientConfiguration.IsInCluster()
                ? KubernetesClientConfiguration.InClusterConfig()
                : KubernetesClientConfiguration.BuildDefaultConfig()));
            info = new(ClusterSourceKind.Kubernetes, "the Kubernetes API server");
            services.AddHostedService<KubernetesClusterSource>();
        }

        services.TryAddSingleton(info);
        return services;
    }
}
