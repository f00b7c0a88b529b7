using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SchedExt.Testing;
using SchedExt.Webhook.Hosting;

namespace SchedExt.Webhook.Tests;

/// <summary>The real Kestrel listeners on loopback: HTTPS with a rotating certificate for admission, plain HTTP for metrics.</summary>
public sealed class KestrelListenerTests : IAsyncLifetime, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("schedext-kestrel-").FullName;
    private int _httpsPort;
    private int _metricsPort;
    private WebApplication? _app;
    private string? _seenThumbprint;

    public async Task InitializeAsync()
    {
        WriteCertificate("CN=schedext-webhook-1");

        // WebhookApp routes by the configured ports, so Kestrel cannot pick its own (port 0). A probed port is free only
        // until it is released: another test may bind it before Kestrel does, and then fresh ports are tried.
        for (var attempt = 1; ; attempt++)
        {
            (_httpsPort, _metricsPort) = TwoFreePorts();
            var app = Build();
            try
            {
                await app.StartAsync();
                _app = app;
                return;
            }
            catch (IOException e) when (e.InnerException is AddressInUseException && attempt < 5)
            {
                await app.DisposeAsync();
            }
        }
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }

        Dispose();
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public async Task Listeners_EachPathOnItsOwnPort()
    {
        using var client = TlsClient();
        var review = TestData.ReadText("admission-review", "pod-create-kubectl-apply.json");

        using var mutate = await client.PostAsync(Https("/mutate"), new StringContent(review, Encoding.UTF8, "application/json"));
        using var mutateOnMetricsPort = await client.PostAsync(Http("/mutate"), new StringContent(review, Encoding.UTF8, "application/json"));
        using var metrics = await client.GetAsync(Http("/metrics"));
        using var metricsOnHttpsPort = await client.GetAsync(Https("/metrics"));
        using var readyHttp = await client.GetAsync(Http("/readyz"));
        using var readyHttps = await client.GetAsync(Https("/healthz"));

        Assert.Equal(HttpStatusCode.OK, mutate.StatusCode);

        // The answer is sent whole with its length (not chunked), and the length is the body's.
        Assert.Null(mutate.Headers.TransferEncodingChunked);
        var answer = await mutate.Content.ReadAsByteArrayAsync();
        Assert.Equal(answer.Length, mutate.Content.Headers.ContentLength);
        Assert.Equal("AdmissionReview", System.Text.Json.Nodes.JsonNode.Parse(answer)!["kind"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, mutateOnMetricsPort.StatusCode);
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, metricsOnHttpsPort.StatusCode);
        Assert.Equal(HttpStatusCode.OK, readyHttp.StatusCode);
        Assert.Equal(HttpStatusCode.OK, readyHttps.StatusCode);
    }

    [Fact]
    public async Task Https_CertificateRotated_NewConnectionsGetNewCertificate()
    {
        var first = await ServedThumbprint();
        var rotated = WriteCertificate("CN=schedext-webhook-2");

        Assert.True(_app!.Services.GetRequiredService<TlsCertificateSource>().Reload());

        var second = await ServedThumbprint();
        Assert.NotEqual(first, second);
        Assert.Equal(rotated, second);
    }

    private async Task<string> ServedThumbprint()
    {
        // A fresh client per call: a new TLS handshake, so the selector is asked again.
        using var client = TlsClient();
        using var response = await client.GetAsync(Https("/healthz"));
        response.EnsureSuccessStatusCode();
        return _seenThumbprint!;
    }

    [Fact]
    public async Task Mutate_MalformedChunkedBody_Answers400WithTheServersReason()
    {
        // HttpClient cannot send a malformed chunk, so this speaks HTTP/1.1 over TLS by hand.
        using var tcp = new TcpClient();
        await using var tls = await RawTlsAsync(tcp);
        await tls.WriteAsync(Encoding.ASCII.GetBytes("POST /mutate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n{\"apiVer\r\nzz\r\n"));
        await tls.FlushAsync();

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var text = string.Empty;
        var buffer = new byte[4096];
        int read;

        // Until the one-line plain-text body after the headers is in, or the server closes.
        while (!(text.IndexOf("\r\n\r\n", StringComparison.Ordinal) is var end and >= 0 && text.Length > end + 4 && text.EndsWith('\n'))
            && (read = await tls.ReadAsync(buffer, cts.Token)) > 0)
        {
            text += Encoding.ASCII.GetString(buffer, 0, read);
        }

        Assert.StartsWith("HTTP/1.1 400 ", text, StringComparison.Ordinal);
        Assert.Contains("could not read the request body", text, StringComparison.Ordinal);
        Assert.Contains("chunk", text, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Mutate_CallerClosesMidBody_CountedAsCallerGoneNotAsBadRequest(bool reset)
    {
        using (var tcp = new TcpClient())
        {
            if (reset)
            {
                // Closed with a reset instead of a clean end, as a caller with unread data in its socket closes.
                tcp.LingerState = new LingerOption(true, 0);
            }

            await using var tls = await RawTlsAsync(tcp);
            await tls.WriteAsync(Encoding.ASCII.GetBytes("POST /mutate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"apiVersion\":"));
            await tls.FlushAsync();
            await Task.Delay(200);
        }

        // The body ended 99,986 bytes early: no answer can be delivered, and this is not a malformed review.
        using var client = TlsClient();
        var metrics = string.Empty;
        for (var i = 0; i < 1200 && !metrics.Contains("outcome=\"caller-gone\"} 1", StringComparison.Ordinal); i++)
        {
            await Task.Delay(25);
            metrics = await client.GetStringAsync(Http("/metrics"));
        }

        Assert.Contains("schedext_webhook_reviews_total{outcome=\"caller-gone\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("schedext_webhook_reviews_total{outcome=\"bad-request\"} 0", metrics, StringComparison.Ordinal);
    }

    /// <summary>A TLS connection to the admission port for hand-written HTTP/1.1.</summary>
    private async Task<System.Net.Security.SslStream> RawTlsAsync(TcpClient tcp)
    {
        await tcp.ConnectAsync(IPAddress.Loopback, _httpsPort);
        var tls = new System.Net.Security.SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ApplicationProtocols = [System.Net.Security.SslApplicationProtocol.Http11],
            RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null,
        });
        return tls;
    }

    [Fact]
    public async Task Listen_AllInterfacesOnHostWithoutIPv6_FallsBackToIPv4()
    {
        // Nodes with IPv6 disabled refuse an IPv6 socket; the transport below refuses IPv6 endpoints the same way.
        var (https, metrics) = TwoFreePorts();
        var builder = WebApplication.CreateBuilder(Args(listenAddress: null, https, metrics));
        builder.Services.AddSingleton<IConnectionListenerFactory, IPv4OnlyTransport>();
        await using var app = WebhookApp.Build(builder);

        await app.StartAsync();
        try
        {
            using var client = new HttpClient();
            using var health = await client.GetAsync(new Uri($"http://127.0.0.1:{metrics}/healthz"));
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }
        finally
        {
            await app.StopAsync();
        }
    }

    [Fact]
    public async Task Start_ListenAddressNotAnIpAddress_FailsNamingTheSetting()
    {
        var (https, metrics) = TwoFreePorts();

        // Refused by the options check (as the app is composed, before anything listens), not as a FormatException from
        // IPAddress.Parse when Kestrel starts.
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var app = WebhookApp.Build(Args("localhost-ish", https, metrics));
            await app.StartAsync();
        });

        Assert.Contains("ListenAddress", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("-00:00:01")]
    public async Task Start_WatchSilenceNotPositive_FailsNamingTheSetting(string silence)
    {
        var (https, metrics) = TwoFreePorts();

        // Zero made every watch cancelled as it was made: a busy loop of warnings and no node ever listed.
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var app = WebhookApp.Build([.. Args("127.0.0.1", https, metrics), "--SchedExt:Webhook:WatchSilence", silence]);
            await app.StartAsync();
        });

        Assert.Contains("WatchSilence must be positive", error.Message, StringComparison.Ordinal);
    }

    private HttpClient TlsClient() => new(new SocketsHttpHandler
    {
        SslOptions =
        {
            // The test trusts exactly what it is served and records it.
            RemoteCertificateValidationCallback = (_, cert, _, _) =>
            {
                _seenThumbprint = cert is null ? null : new X509Certificate2(cert).Thumbprint;
                return cert is not null;
            },
        },
    });

    private Uri Https(string path) => new($"https://127.0.0.1:{_httpsPort}{path}");

    private Uri Http(string path) => new($"http://127.0.0.1:{_metricsPort}{path}");

    private WebApplication Build() => WebhookApp.Build(Args("127.0.0.1", _httpsPort, _metricsPort));

    private string[] Args(string? listenAddress, int httpsPort, int metricsPort) =>
    [
        "--environment", "Production",
        .. listenAddress is null ? Array.Empty<string>() : ["--SchedExt:Webhook:ListenAddress", listenAddress],
        "--SchedExt:Webhook:HttpsPort", httpsPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--SchedExt:Webhook:MetricsPort", metricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--SchedExt:Webhook:PolicyFile", TestData.PathOf("webhook", "policy.yaml"),
        "--SchedExt:Webhook:SnapshotFile", TestData.PathOf("webhook", "cluster.yaml"),
        "--SchedExt:Webhook:TlsCertFile", Path.Combine(_dir, "tls.crt"),
        "--SchedExt:Webhook:TlsKeyFile", Path.Combine(_dir, "tls.key"),
        "--SchedExt:Webhook:FileCheckInterval", "01:00:00",
    ];

    private string WriteCertificate(string subject) => TestCertificates.Write(_dir, subject);

    // Both probes stay bound until both ports are read, so the two ports differ.
    private static (int Https, int Metrics) TwoFreePorts()
    {
        using var https = new TcpListener(IPAddress.Loopback, 0);
        using var metrics = new TcpListener(IPAddress.Loopback, 0);
        https.Start();
        metrics.Start();
        return (((IPEndPoint)https.LocalEndpoint).Port, ((IPEndPoint)metrics.LocalEndpoint).Port);
    }

    /// <summary>Kestrel's socket transport on a host whose kernel has IPv6 disabled: an IPv6 endpoint cannot be bound at all.</summary>
    private sealed class IPv4OnlyTransport(IOptions<SocketTransportOptions> options, ILoggerFactory loggers) : IConnectionListenerFactory
    {
        private readonly SocketTransportFactory _sockets = new(options, loggers);

        public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default) =>
            endpoint is IPEndPoint { AddressFamily: AddressFamily.InterNetworkV6 }
                ? throw new SocketException((int)SocketError.AddressFamilyNotSupported)
                : _sockets.BindAsync(endpoint, cancellationToken);
    }
}
