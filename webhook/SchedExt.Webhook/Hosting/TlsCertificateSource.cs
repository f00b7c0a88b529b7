using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;
using SchedExt.Webhook.Diagnostics;

namespace SchedExt.Webhook.Hosting;

/// <summary>The serving certificate, read from PEM files and re-read when their content changes (cert-manager or a Secret rotation).</summary>
/// <remarks>Kestrel asks for the certificate on every handshake through a selector, so a rotation needs no restart and no dropped connection.</remarks>
internal sealed class TlsCertificateSource : IDisposable, IWatchedFile
{
    private readonly string _certFile;
    private readonly string _keyFile;
    private readonly ILogger<TlsCertificateSource> _logger;
    private readonly WebhookMetrics _metrics;
    private readonly Lock _lock = new();
    private volatile X509Certificate2? _current;
    private byte[]? _lastCert;
    private byte[]? _lastKey;
    private volatile string? _problem;

    public TlsCertificateSource(IOptions<WebhookOptions> options, ILogger<TlsCertificateSource> logger, WebhookMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(options);
        _certFile = options.Value.TlsCertFile;
        _keyFile = options.Value.TlsKeyFile;
        _logger = logger;
        _metrics = metrics;
        Enabled = File.Exists(_certFile) || File.Exists(_keyFile);
        if (Enabled)
        {
            Reload();
        }
    }

    /// <summary>False when neither file exists: the app then serves plain HTTP (development only).</summary>
    public bool Enabled { get; }

    public X509Certificate2? Current => _current;

    /// <summary>Why the last read failed, or null after a good one: with no certificate loaded, readiness reports it.</summary>
    public string? Problem => _problem;

    public string CertFile => _certFile;

    public string KeyFile => _keyFile;

    /// <summary>Re-reads both files; swaps the certificate when they changed and load cleanly. Returns true when a new certificate is in force.</summary>
    public bool Reload()
    {
        if (!Enabled)
        {
            return false;
        }

        lock (_lock)
        {
            try
            {
                var cert = File.ReadAllBytes(_certFile);
                var key = File.ReadAllBytes(_keyFile);
                // Content already tried, loaded or not: the same bytes give the same answer, so a bad pair (an empty
                // Secret before cert-manager issues it) is reported once, not at every check.
                if (_lastCert is not null && cert.AsSpan().SequenceEqual(_lastCert) && key.AsSpan().SequenceEqual(_lastKey))
                {
                    return false;
                }

                _lastCert = cert;
                _lastKey = key;
                var loaded = X509Certificate2.CreateFromPem(System.Text.Encoding.UTF8.GetString(cert), System.Text.Encoding.UTF8.GetString(key));
                var previous = _current;
                _current = loaded;
                _problem = null;

                // The previous certificate may still be mid-handshake on another thread; let the GC finalize it.
                _ = previous;
                Log.CertificateLoaded(_logger, _certFile, loaded.Subject, loaded.NotAfter.ToUniversalTime());
                _metrics.TlsReload(ok: true);
                return true;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
            {
                // A file that cannot be read (a missing key beside its certificate) fails the same way at every check:
                // reported once, until the reason changes or a pair loads.
                if (_problem == ex.Message)
                {
                    return false;
                }

                _problem = ex.Message;
                Log.CertificateRejected(_logger, _certFile, ex.Message);
                _metrics.TlsReload(ok: false);
                return false;
            }
        }
    }

    public void Dispose() => _current?.Dispose();

    string IWatchedFile.FileDescription => "TLS certificate";

    void IWatchedFile.ReloadIfChanged() => _ = Reload();
}
