using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SchedExt.Webhook.Diagnostics;
using SchedExt.Webhook.Hosting;

namespace SchedExt.Webhook.Tests;

/// <summary>The serving certificate is re-read when the files rotate; a broken rotation keeps the previous certificate.</summary>
public sealed class TlsCertificateSourceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("schedext-tls-").FullName;

    private string CertFile => Path.Combine(_dir, "tls.crt");

    private string KeyFile => Path.Combine(_dir, "tls.key");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Reload_RotatedFiles_ServesNewCertificate()
    {
        var first = WriteCertificate("CN=schedext-webhook-1");
        using var source = Create();
        Assert.Equal(first, source.Current!.Thumbprint);

        Assert.False(source.Reload());
        var second = WriteCertificate("CN=schedext-webhook-2");

        Assert.True(source.Reload());
        Assert.Equal(second, source.Current!.Thumbprint);
        Assert.Equal("CN=schedext-webhook-2", source.Current.Subject);
    }

    [Fact]
    public void Reload_BrokenKey_KeepsPreviousCertificate()
    {
        var first = WriteCertificate("CN=schedext-webhook");
        using var source = Create();
        File.WriteAllText(KeyFile, "-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n");

        Assert.False(source.Reload());
        Assert.Equal(first, source.Current!.Thumbprint);
    }

    [Fact]
    public void Reload_SameUnloadableFiles_ReportedOnceUntilTheyChange()
    {
        // An empty Secret until cert-manager issues the certificate: checked every few seconds meanwhile.
        File.WriteAllText(CertFile, string.Empty);
        File.WriteAllText(KeyFile, string.Empty);
        var logs = new LogCapture();
        using var source = Create(logs);

        Assert.False(source.Reload());
        Assert.False(source.Reload());
        Assert.Single(logs.Messages(403));
        Assert.Null(source.Current);
        Assert.NotNull(source.Problem);

        var issued = WriteCertificate("CN=schedext-webhook");
        Assert.True(source.Reload());
        Assert.Equal(issued, source.Current!.Thumbprint);
        Assert.Null(source.Problem);
    }

    [Fact]
    public void Reload_KeyFileMissing_ReportedOnceUntilItIsBack()
    {
        var first = WriteCertificate("CN=schedext-webhook-1");
        var logs = new LogCapture();
        using var source = Create(logs);
        File.Delete(KeyFile);

        Assert.False(source.Reload());
        Assert.False(source.Reload());
        Assert.False(source.Reload());
        Assert.Single(logs.Messages(403));
        Assert.Equal(first, source.Current!.Thumbprint);

        var second = WriteCertificate("CN=schedext-webhook-2");
        Assert.True(source.Reload());
        Assert.Equal(second, source.Current!.Thumbprint);
    }

    [Fact]
    public void Create_FilesAbsent_IsDisabled()
    {
        using var source = Create();

        Assert.False(source.Enabled);
        Assert.Null(source.Current);
        Assert.False(source.Reload());
    }

    private TlsCertificateSource Create(LogCapture? logs = null) => new(
        Options.Create(new WebhookOptions { TlsCertFile = CertFile, TlsKeyFile = KeyFile }),
        logs?.CreateLogger<TlsCertificateSource>() ?? NullLogger<TlsCertificateSource>.Instance,
        new WebhookMetrics());

    private string WriteCertificate(string subject) => TestCertificates.Write(_dir, subject);
}
