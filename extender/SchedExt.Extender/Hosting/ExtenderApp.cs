using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.ObjectPool;
using Microsoft.Extensions.Options;
using Prometheus;
using SchedExt.Extender.Binding;
using SchedExt.Extender.Metrics;
using SchedExt.Extender.Protocol;
using SchedExt.Extender.Scheduling;
using SchedExt.Extender.Sources;
using SchedExt.Extender.State;
using SchedExt.Extender.Verbs;
using SchedExt.Topology.Requests;
using SchedExt.Topology.Search;

namespace SchedExt.Extender;

/// <summary>Builds the extender web application: options, cluster state, verbs, health and metrics.</summary>
internal static class ExtenderApp
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);

        // Lowest-precedence defaults, wherever the process starts (the image runs it from /app, not from the folder of
        // the dll, so a file next to it would not be read): no per-request ASP.NET Core log lines, five per verb call
        // otherwise. Environment variables, arguments and an appsettings.json in the content root still override.
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = "Information",
                ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
            },
        });
        builder.WebHost.UseKestrelHttpsConfiguration();
        configure?.Invoke(builder);
        AddServices(builder.Services, builder.Configuration);
        builder.WebHost.ConfigureKestrel(k =>
        {
            // The verb routes enforce MaxRequestBodyBytes themselves (with a clear 400); Kestrel's own cap sits above it.
            k.Limits.MaxRequestBodySize = null;
            k.AddServerHeader = false;
        });

        var app = builder.Build();
        Map(app);
        return app;
    }

    internal static void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddClusterSource(configuration);
        var options = configuration.GetSection(ExtenderOptions.Section).Get<ExtenderOptions>() ?? new ExtenderOptions();
        var weights = options.Weights.ToWeights();
        weights.Validate();

        services.AddSingleton(new CollectorRegistry());
        services.AddSingleton<ExtenderMetrics>();
        services.AddSingleton(new PlacementEngine(weights));
        services.AddSingleton<PlacementPlanner>();
        services.AddSingleton<RequestCache>();
        services.AddSingleton<Reservations>();
        services.AddSingleton<Binder>();
        services.AddSingleton<INodeInfoReader>(sp => sp.GetRequiredService<NodeReader>());
        services.AddSingleton<ObjectPoolProvider, DefaultObjectPoolProvider>();
        services.AddSingleton(sp => sp.GetRequiredService<ObjectPoolProvider>().Create(new ScratchPolicy()));
        services.AddSingleton<ExtenderVerbs>();
        services.AddSingleton<Readiness>();

        var local = !string.IsNullOrWhiteSpace(options.SnapshotFile) || options.Demo;
        if (local)
        {
            services.AddSingleton<PendingPods>();
            services.AddSingleton<IClusterApi, LocalClusterApi>();
        }
        else
        {
            services.AddSingleton<IClusterApi, KubernetesClusterApi>();
            services.AddHostedService<ClaimJanitor>();
        }
    }

    private static void Map(WebApplication app)
    {
        var verbs = app.Services.GetRequiredService<ExtenderVerbs>();
        app.MapPost("/filter", verbs.FilterAsync);
        app.MapPost("/prioritize", verbs.PrioritizeAsync);
        app.MapPost("/bind", verbs.BindAsync);
        app.MapPost("/preempt", verbs.PreemptAsync);

        // Liveness says only that the process serves HTTP; readiness says the state is synced and fresh.
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", (Readiness readiness) =>
        {
            var problem = readiness.Problem();
            return problem is null ? Results.Text("ok\n") : Results.Text(problem + "\n", statusCode: StatusCodes.Status503ServiceUnavailable);
        });

        var registry = app.Services.GetRequiredService<CollectorRegistry>();
        var metrics = app.Services.GetRequiredService<ExtenderMetrics>();
        var state = app.Services.GetRequiredService<ClusterState>();
        var reservations = app.Services.GetRequiredService<Reservations>();
        var time = app.Services.GetRequiredService<TimeProvider>();
        registry.AddBeforeCollectCallback(() => CapacityGauges.Update(metrics, state, reservations, time));
        app.MapMetrics("/metrics", registry);
    }

    private sealed class ScratchPolicy : PooledObjectPolicy<VerbScratch>
    {
        public override VerbScratch Create() => new();

        public override bool Return(VerbScratch obj) => obj.Reset();
    }
}

/// <summary>Readiness: the first full sync has happened and, for the API source, the watch is not stale.</summary>
internal sealed class Readiness(ClusterState state, ClusterSourceInfo source, IOptionsMonitor<ExtenderOptions> options, TimeProvider time)
{
    /// <summary>Null when ready, else why not.</summary>
    public string? Problem()
    {
        var snapshot = state.Current;
        if (!snapshot.Synced)
        {
            return $"not ready: waiting for the first full sync from {source.Description}";
        }

        if (source.Kind == ClusterSourceKind.Kubernetes)
        {
            foreach (var stream in (ReadOnlySpan<ContactStream>)[ContactStream.Nodes, ContactStream.Pods])
            {
                if (state.LastContactOf(stream) is { } last && time.GetUtcNow() - last is var silent && silent > options.CurrentValue.StaleAfter)
                {
                    var kind = stream == ContactStream.Nodes ? "nodes" : "pods";
                    return $"not ready: no word from the API server about {kind} for {silent.TotalSeconds:F0}s (limit {options.CurrentValue.StaleAfter.TotalSeconds:F0}s)";
                }
            }
        }

        return null;
    }
}

/// <summary>Fills the capacity gauges from the current snapshot at scrape time.</summary>
internal static class CapacityGauges
{
    private static readonly int[] Sizes = [1, 2, 4, 8];

    /// <summary>Two scrapes at once must not interleave removing and setting labels.</summary>
    private static readonly Lock Gate = new();

    public static void Update(ExtenderMetrics metrics, ClusterState state, Reservations reservations, TimeProvider time)
    {
        var snapshot = state.Current;
        metrics.SnapshotNodes.Set(snapshot.Nodes.Count);
        metrics.Reservations.Set(reservations.Live(snapshot));
        if (state.LastContact is { } last)
        {
            metrics.SnapshotAge.Set((time.GetUtcNow() - last).TotalSeconds);
        }

        // Shapes described alike (the label) are summed, not written over one another; a label whose nodes are gone is
        // removed rather than left at its last value.
        var gpus = new Dictionary<string[], double>(LabelsComparer.Instance);
        var groups = new Dictionary<string[], double>(LabelsComparer.Instance);
        foreach (var byShape in snapshot.Nodes.Values.GroupBy(n => n.Shape))
        {
            var shape = byShape.Key;
            var tier = shape.StrongestTier;
            var tierName = SchedExtKeys.Format(tier);
            string[] shapeLabel = [shape.Description];
            gpus[shapeLabel] = gpus.GetValueOrDefault(shapeLabel) + byShape.Sum(n => System.Numerics.BitOperations.PopCount(n.FreeGpus));
            foreach (var size in Sizes)
            {
                if (size > shape.GpuCount)
                {
                    continue;
                }

                string[] key = [shape.Description, tierName, size.ToString(System.Globalization.CultureInfo.InvariantCulture)];
                groups[key] = groups.GetValueOrDefault(key) + byShape.Count(n => shape.LargestGroup(tier, n.FreeGpus) >= size);
            }
        }

        lock (Gate)
        {
            Publish(metrics.FreeGpus, gpus);
            Publish(metrics.FreeGroups, groups);
        }
    }

    private static void Publish(Gauge gauge, Dictionary<string[], double> values)
    {
        foreach (var labels in gauge.GetAllLabelValues().ToList())
        {
            if (!values.ContainsKey(labels))
            {
                gauge.RemoveLabelled(labels);
            }
        }

        foreach (var (labels, value) in values)
        {
            gauge.WithLabels(labels).Set(value);
        }
    }

    private sealed class LabelsComparer : IEqualityComparer<string[]>
    {
        public static readonly LabelsComparer Instance = new();

        public bool Equals(string[]? x, string[]? y) => x is not null && y is not null && x.AsSpan().SequenceEqual(y);

        public int GetHashCode(string[] obj)
        {
            var hash = default(HashCode);
            foreach (var label in obj)
            {
                hash.Add(label, StringComparer.Ordinal);
            }

            return hash.ToHashCode();
        }
    }
}
