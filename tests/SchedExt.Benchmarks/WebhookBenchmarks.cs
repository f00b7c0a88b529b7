using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using SchedExt.Testing;
using SchedExt.Webhook.Hosting;

namespace SchedExt.Benchmarks;

/// <summary>
/// The admission webhook end to end over loopback HTTP (Kestrel, plain HTTP) and its handler alone, for a pod that did
/// not opt in and a typical opted-in pod (profile train-8x-h100 against the test cluster snapshot). The HTTP rows drive
/// the webhook with <see cref="LoopbackLoad"/>: <see cref="Connections"/> kept-alive connections, each with one review
/// in flight, 256 reviews per operation set; client and server share the machine's cores. Reviews per second =
/// 1e9 / Mean(ns). Allocated is per review, process-wide (client and server) for the HTTP rows.
/// Run: <c>make bench BENCH_FILTER='*WebhookBenchmarks*'</c>.
/// </summary>
[MemoryDiagnoser]
[ShippedRuntimeJob]
public class WebhookBenchmarks : IDisposable
{
    private const int ReviewsPerOperation = 256;
    private WebApplication? _app;
    private LoopbackLoad? _notOptedInLoad;
    private LoopbackLoad? _optedInLoad;
    private byte[] _notOptedIn = [];
    private byte[] _optedIn = [];
    private SchedExt.Webhook.Admission.AdmissionReviewer? _reviewer;

    /// <summary>Connections open at once, each with one review in flight.</summary>
    [Params(1, 16)]
    public int Connections { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var port = FreePort();
        _app = WebhookApp.Build(
        [
            "--environment", "Development",
            "--Logging:LogLevel:Default", "Warning",
            "--SchedExt:Webhook:ListenAddress", "127.0.0.1",
            "--SchedExt:Webhook:HttpsPort", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--SchedExt:Webhook:MetricsPort", FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--SchedExt:Webhook:PolicyFile", TestData.PathOf("webhook", "policy.yaml"),
            "--SchedExt:Webhook:SnapshotFile", TestData.PathOf("webhook", "cluster.yaml"),
            "--SchedExt:Webhook:TlsCertFile", "/nonexistent/tls.crt",
            "--SchedExt:Webhook:TlsKeyFile", "/nonexistent/tls.key",
        ]);
        _app.StartAsync().GetAwaiter().GetResult();
        _reviewer = _app.Services.GetRequiredService<SchedExt.Webhook.Admission.AdmissionReviewer>();

        var sample = TestData.ReadText("admission-review", "pod-create-replicaset-controller.json");
        _notOptedIn = Encoding.UTF8.GetBytes(sample);
        var opted = JsonNode.Parse(sample)!;
        opted["request"]!["object"]!["metadata"]!["annotations"]!["schedext.io/profile"] = "train-8x-h100";
        _optedIn = Encoding.UTF8.GetBytes(opted.ToJsonString());

        // Fail fast if the setup is wrong rather than measuring errors.
        if (_reviewer.Review(_optedIn).Patch.IsEmpty || !_reviewer.Review(_notOptedIn).Patch.IsEmpty)
        {
            throw new InvalidOperationException("benchmark reviews do not behave as expected");
        }

        var server = new IPEndPoint(IPAddress.Loopback, port);
        _notOptedInLoad = LoopbackLoad.ConnectAsync(server, "/mutate", _notOptedIn, Connections).GetAwaiter().GetResult();
        _optedInLoad = LoopbackLoad.ConnectAsync(server, "/mutate", _optedIn, Connections).GetAwaiter().GetResult();
        _optedInLoad.RunAsync(1).GetAwaiter().GetResult();
        if (!Encoding.UTF8.GetString(_optedInLoad.LastReplyBody).Contains("\"patch\"", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("the opted-in review over HTTP came back without a patch");
        }
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _notOptedInLoad?.Dispose();
        _optedInLoad?.Dispose();
        _notOptedInLoad = _optedInLoad = null;
        _app?.StopAsync().GetAwaiter().GetResult();
        (_app as IDisposable)?.Dispose();
        _app = null;
        GC.SuppressFinalize(this);
    }

    [Benchmark(OperationsPerInvoke = ReviewsPerOperation)]
    public Task Http_NotOptedIn() => _notOptedInLoad!.RunAsync(ReviewsPerOperation / Connections);

    [Benchmark(OperationsPerInvoke = ReviewsPerOperation)]
    public Task Http_OptedIn() => _optedInLoad!.RunAsync(ReviewsPerOperation / Connections);

    [Benchmark]
    public object Handler_NotOptedIn() => _reviewer!.Review(_notOptedIn);

    [Benchmark]
    public object Handler_OptedIn() => _reviewer!.Review(_optedIn);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
