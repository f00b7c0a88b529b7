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
/// The admission webhook end to end over loopback HTTP (Kestrel, 32 requests in flight) and its handler alone, for a
/// pod that did not opt in and a typical opted-in pod (profile train-8x-h100 against the test cluster snapshot).
/// Reviews per second = 1e9 / Mean(ns). Allocated is per review, process-wide (client and server) for the HTTP rows.
/// Run: <c>dotnet run -c Release --project tests/SchedExt.Benchmarks -- --filter '*WebhookBenchmarks*'</c>.
/// </summary>
[MemoryDiagnoser]
public class WebhookBenchmarks : IDisposable
{
    private const int InFlight = 32;
    private WebApplication? _app;
    private HttpClient? _client;
    private Uri? _mutate;
    private byte[] _notOptedIn = [];
    private byte[] _optedIn = [];
    private SchedExt.Webhook.Admission.AdmissionReviewer? _reviewer;

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
        _client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = InFlight });
        _mutate = new Uri($"http://127.0.0.1:{port}/mutate");

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
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _client?.Dispose();
        _client = null;
        _app?.StopAsync().GetAwaiter().GetResult();
        (_app as IDisposable)?.Dispose();
        _app = null;
        GC.SuppressFinalize(this);
    }

    [Benchmark(OperationsPerInvoke = InFlight)]
    public Task Http_NotOptedIn() => PostMany(_notOptedIn);

    [Benchmark(OperationsPerInvoke = InFlight)]
    public Task Http_OptedIn() => PostMany(_optedIn);

    [Benchmark]
    public object Handler_NotOptedIn() => _reviewer!.Review(_notOptedIn);

    [Benchmark]
    public object Handler_OptedIn() => _reviewer!.Review(_optedIn);

    private async Task PostMany(byte[] body)
    {
        var tasks = new Task[InFlight];
        for (var i = 0; i < InFlight; i++)
        {
            tasks[i] = PostOne(body);
        }

        await Task.WhenAll(tasks);
    }

    private async Task PostOne(byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/json");
        using var response = await _client!.PostAsync(_mutate, content);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"webhook answered {response.StatusCode}");
        }

        await response.Content.ReadAsByteArrayAsync();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
