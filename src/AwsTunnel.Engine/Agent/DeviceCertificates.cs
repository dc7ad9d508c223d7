using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AwsTunnel.Engine.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace AwsTunnel.Engine.Agent;

/// <summary>
/// Loads what a device holds for AWS IoT Core: its certificate and private key (PEM files, as
/// AWS IoT hands them out, or one PKCS#12 file) and the CA certificates the broker is checked
/// against (a PEM file such as AmazonRootCA1.pem, or a directory of them).
/// </summary>
public static class DeviceCertificates
{
    /// <summary>The device certificate with its key, usable for a TLS client handshake on every platform.</summary>
    /// <param name="certificatePath">A PEM certificate (with <paramref name="keyPath"/>), or a .pfx/.p12 file.</param>
    /// <param name="keyPath">The PEM private key; null for a PKCS#12 file or a PEM file holding both.</param>
    /// <exception cref="ArgumentException">a file is missing or not what it should be; the message names it.</exception>
    public static X509Certificate2 LoadClientCertificate(string certificatePath, string? keyPath)
    {
        RequireFile(certificatePath, "device certificate");
        if (keyPath is not null)
        {
            RequireFile(keyPath, "device private key");
        }

        try
        {
            if (keyPath is null && IsPkcs12(certificatePath))
            {
                return new X509Certificate2(certificatePath, (string?)null, X509KeyStorageFlags.Exportable);
            }

            using var pem = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
            // Through PKCS#12: on Windows SslStream cannot use a PEM key held only in memory.
            return new X509Certificate2(pem.Export(X509ContentType.Pkcs12), (string?)null, X509KeyStorageFlags.Exportable);
        }
        catch (CryptographicException ex)
        {
            string what = keyPath is null
                ? $"'{certificatePath}' holds no certificate with a private key"
                : $"'{certificatePath}' and '{keyPath}' are not a PEM certificate and its private key";
            throw new ArgumentException($"The device certificate could not be loaded: {what} ({ex.Message}). Give the certificate and key files AWS IoT created for the thing.", ex);
        }
    }

    /// <summary>Every certificate in a PEM/DER file, or in the files of a directory.</summary>
    /// <exception cref="ArgumentException">the path does not exist or holds no certificate.</exception>
    public static X509Certificate2Collection LoadAuthorities(string path)
    {
        X509Certificate2Collection result;
        if (Directory.Exists(path))
        {
            result = CertificateTrust.LoadDirectory(path, NullLogger.Instance);
        }
        else
        {
            RequireFile(path, "CA certificate");
            try
            {
                result = CertificateTrust.LoadFile(path);
            }
            catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
            {
                result = new X509Certificate2Collection();
            }
        }

        if (result.Count == 0)
        {
            throw new ArgumentException($"'{path}' holds no CA certificate. Give a PEM file such as AmazonRootCA1.pem, or a directory of them.");
        }

        return result;
    }

    private static bool IsPkcs12(string path) =>
        path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase);

    private static void RequireFile(string path, string what)
    {
        if (!File.Exists(path))
        {
            throw new ArgumentException($"The {what} file '{path}' does not exist. Give the path of the file.");
        }
    }
}
