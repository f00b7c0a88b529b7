using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace SchedExt.Webhook.Tests;

/// <summary>Self-signed serving certificates written as PEM files, the way cert-manager mounts them.</summary>
public static class TestCertificates
{
    /// <summary>Writes <c>tls.crt</c> and <c>tls.key</c> into <paramref name="dir"/> and returns the certificate's thumbprint.</summary>
    public static string Write(string dir, string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        var now = DateTimeOffset.UtcNow;
        using var cert = request.CreateSelfSigned(now.AddMinutes(-1), now.AddDays(1));
        File.WriteAllText(Path.Combine(dir, "tls.crt"), cert.ExportCertificatePem());
        File.WriteAllText(Path.Combine(dir, "tls.key"), key.ExportPkcs8PrivateKeyPem());
        return cert.Thumbprint;
    }
}
