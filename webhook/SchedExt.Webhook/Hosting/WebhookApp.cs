using System.Net;
using k8s;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.Options;
using Prometheus;
using SchedExt.Topology.Scoring;
using SchedExt.Topology.Search;
using SchedExt.Topology.Shapes;
using SchedExt.Webhook.Admission;
using SchedExt.Webhook.Diagnostics;
using SchedExt.Webhook.Feasibility;
using SchedExt.Webhook.Policy;

namespace SchedExt.Webhook.Hosting;

/// <summary>Composes the webhook: services, Kestrel listeners, endpoints.</summary>
internal static class WebhookApp
{
    public static WebApplication Build(string[] args) => Build(WebApplication.CreateBuilder(args));

    /// <summary>Composes the webhook on <paramref name="builder"/>; tests add their own services (a transport, a clock) first.</summary>
    internal static WebApplication Build(WebApplicationBuilder builder)
    {
        // Lowest-precedence defaults, wherever the content root is: no per-request ASP.NET Core log lines (two per
        // review would dominate the webhook's cost). Environment variables and appsettings still override.
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = "Information",
                ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
            },
        });
        AddServices(builder.Services, builder.Configuration);
        builder.WebHost.ConfigureKestrel((context, kestrel) => ConfigureListeners(kestrel, context.HostingEnvironment));
        var app = builder.Build();
        MapEndpoints(app);
        return app;
    }

    internal static void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<WebhookOptions>()
            .Bind(configuration.GetSection(WebhookOptions.Section))
            .Validate(o => o.MaxRequestBodyBytes > 0, "SchedExt:Webhook:MaxRequestBodyBytes must be positive")
            .Validate(o => o.HttpsPort is > 0 and < 65536 && o.MetricsPort is > 0 and < 65536 && o.HttpsPort != o.MetricsPort, "SchedExt:Webhook ports must be distinct and in 1..65535")
            .Validate(o => o.FileCheckInterval > TimeSpan.Zero, "SchedExt:Webhook:FileCheckInterval must be positive")
            .Validate(o => o.WatchSilence > TimeSpan.Zero, "SchedExt:Webhook:WatchSilence must be positive")
            .Validate(o => string.IsNullOrWhiteSpace(o.ListenAddress) || IPAddress.TryParse(o.ListenAddress, out _), "SchedExt:Webhook:ListenAddress must be empty (every interface) or an IP address such as 127.0.0.1")
            .ValidateOnStart();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<WebhookMetrics>();
        services.AddSingleton<PolicyStore>();
        services.AddSingleton<ClusterView>();
        services.AddSingleton(_ => ClusterAccess.Detect());
        services.AddSingleton<ShapeCatalog>();
        services.AddSingleton(_ => new PlacementEngine(ScoreWeights.Default));
        services.AddSingleton<IShapeFeasibility, ShapeFeasibility>();
        services.AddSingleton<AdmissionReviewer>();
        services.AddSingleton<AdmissionEndpoint>();
        services.AddSingleton<TlsCertificateSource>();
        services.AddSingleton<SnapshotFileSource>();

        // Built only when ClusterSource decides to watch: in-cluster config first, else KUBECONFIG / ~/.kube/config.
        services.AddSingleton<IKubernetes>(_ => new Kubernetes(
            KubernetesClientConfiguration.IsInCluster() ? KubernetesClientConfiguration.InClusterConfig() : KubernetesClientConfiguration.BuildConfigFromConfigFile()));
        services.AddHostedService<ClusterSource>();
        services.AddSingleton<IWatchedFile>(sp => sp.GetRequiredService<PolicyStore>());
        services.AddSingleton<IWatchedFile>(sp => sp.GetRequiredService<TlsCertificateSource>());
        services.AddSingleton<IWatchedFile>(sp => sp.GetRequiredService<SnapshotFileSource>());
        services.AddHostedService<FileWatchService>();
        services.AddHealthChecks();
    }

    private static void ConfigureListeners(KestrelServerOptions kestrel, IHostEnvironment environment)
    {
        var services = kestrel.ApplicationServices;
        var options = services.GetRequiredService<IOptions<WebhookOptions>>().Value;
        var tls = services.GetRequiredService<TlsCertificateSource>();
        var address = string.IsNullOrWhiteSpace(options.ListenAddress) ? null : IPAddress.Parse(options.ListenAddress);

        // Every interface: ListenAnyIP binds [::] (IPv6 and IPv4) and falls back to 0.0.0.0 where IPv6 is disabled, on
        // which Listen(IPAddress.IPv6Any, …) failed the start. An address that is set is used as it is.
        void Listen(int port, Action<ListenOptions> configure)
        {
            if (address is null)
            {
                kestrel.ListenAnyIP(port, configure);
            }
            else
            {
                kestrel.Listen(address, port, configure);
            }
        }

        kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
        kestrel.AddServerHeader = false;
        Listen(options.MetricsPort, _ => { });
        if (tls.Enabled)
        {
            Listen(options.HttpsPort, listen => listen.UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificateSelector = (_, _) => tls.Current,
            }));
            return;
        }

        if (!environment.IsDevelopment())
        {
            throw new InvalidOperationException(
                $"TLS certificate {options.TlsCertFile} and key {options.TlsKeyFile} are missing; kube-apiserver only calls webhooks over HTTPS. " +
                "Mount the serving certificate (e.g. from cert-manager) or set ASPNETCORE_ENVIRONMENT=Development for plain HTTP.");
        }

        Log.PlainHttp(services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(WebhookApp)), options.TlsCertFile, options.TlsKeyFile, options.HttpsPort);
        Listen(options.HttpsPort, _ => { });
    }

    internal static void MapEndpoints(WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<WebhookOptions>>().Value;
        app.UseRouting();

        // One process, two listeners: keep admission off the plain-HTTP port and metrics off the HTTPS one.
        // TestServer connections have no local port (0) and are not filtered.
        app.Use((context, next) =>
        {
            var port = context.Connection.LocalPort;
            if (port != 0 && context.GetEndpoint()?.Metadata.GetMetadata<ListenerScope>() is { } scope && scope.PortOf(options) != port)
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }

            return next(context);
        });

        var endpoint = app.Services.GetRequiredService<AdmissionEndpoint>();
        app.MapPost("/mutate", endpoint.HandleAsync).WithMetadata(ListenerScope.Webhook);
        app.MapGet("/healthz", () => Results.Text("ok\n"));

        // The probe port is plain HTTP, so it would answer while every TLS handshake fails for want of a certificate
        // (files present but unloadable: a key that does not match, an empty Secret before cert-manager issues it);
        // a rolling update would then replace working pods with ones kube-apiserver cannot call.
        app.MapGet("/readyz", (PolicyStore policy, ClusterView cluster, TlsCertificateSource tls) =>
            policy.Current is null ? NotReady("no valid policy loaded")
            : tls.Enabled && tls.Current is null ? NotReady($"no TLS certificate loaded from {tls.CertFile} and {tls.KeyFile}: {tls.Problem ?? "not read yet"}")
            : cluster.NotReadyReason is { } waiting ? NotReady(waiting)
            : Results.Text("ok\n"));
        app.MapMetrics("/metrics", app.Services.GetRequiredService<WebhookMetrics>().Registry).WithMetadata(ListenerScope.Metrics);
    }

    private static IResult NotReady(string reason) => Results.Text(reason + "\n", statusCode: StatusCodes.Status503ServiceUnavailable);
}
