using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.Engine.Transport;

/// <summary>
/// Decides whether the service's certificate is trusted: the system's roots, plus a
/// CA directory (<c>--capath</c>) and explicitly trusted certificates; or nothing at all when
/// host verification is switched off.
/// </summary>
public sealed class CertificateTrust
{
    private readonly X509Certificate2Collection _extraRoots;
    private readonly bool _skip;
    private readonly string _caOption;

    /// <param name="extraRoots">Trusted in addition to the system's roots.</param>
    /// <param name="skipVerification">Trust anything (unsafe).</param>
    /// <param name="caOption">The front end's name for the CA directory input, for the hint in a chain failure (e.g. <c>-c/--capath</c>).</param>
    public CertificateTrust(X509Certificate2Collection extraRoots, bool skipVerification, string caOption = "a CA certificate directory")
    {
        _extraRoots = extraRoots;
        _skip = skipVerification;
        _caOption = caOption;
    }

    /// <summary>Why the last certificate was refused, for the error the user sees.</summary>
    public string? LastFailure { get; private set; }

    /// <summary>
    /// Loads every certificate in the files of <paramref name="directory"/> (not its subdirectories),
    /// whatever their names: <c>*.pem</c>, <c>*.crt</c>, <c>*.cer</c>, and the OpenSSL hashed layout
    /// (<c>abcd1234.0</c>, often symbolic links). PEM files may hold several certificates; DER files
    /// hold one. Files that are not certificates (keys, CRLs, notes) are skipped.
    /// </summary>
    /// <exception cref="ArgumentException">the directory does not exist.</exception>
    public static X509Certificate2Collection LoadDirectory(string directory, ILogger logger)
    {
        if (!Directory.Exists(directory))
        {
            throw new ArgumentException($"Certificate directory '{directory}' does not exist. Give a directory of PEM or CRT files.");
        }

        var result = new X509Certificate2Collection();
        foreach (var file in Directory.EnumerateFiles(directory))
        {
            try
            {
                result.AddRange(LoadFile(file));
            }
            catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or IOException or UnauthorizedAccessException)
            {
                logger.LogDebug("Skipped {File} in the certificate directory: {Reason}", file, ex.Message);
            }
        }

        if (result.Count == 0)
        {
            logger.LogWarning("The certificate directory {Directory} holds no PEM, CRT or DER certificates; only the system's trusted roots apply.", directory);
        }
        else
        {
            logger.LogDebug("Loaded {Count} certificates from {Directory}", result.Count, directory);
        }
        return result;
    }

    /// <summary>The certificates of one PEM file (several allowed) or DER file (one).</summary>
    /// <exception cref="System.Security.Cryptography.CryptographicException">the file holds no certificate.</exception>
    public static X509Certificate2Collection LoadFile(string file)
    {
        var found = new X509Certificate2Collection();
        found.ImportFromPemFile(file);
        if (found.Count == 0)
        {
            found.Add(new X509Certificate2(file));
        }

        return found;
    }

    /// <summary>The callback for <see cref="SslClientAuthenticationOptions.RemoteCertificateValidationCallback"/>.</summary>
    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (_skip || errors == SslPolicyErrors.None)
        {
            LastFailure = null;
            return true;
        }

        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable) || certificate is null)
        {
            LastFailure = "the service presented no certificate";
            return false;
        }

        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            LastFailure = $"host name check failed: the certificate ({certificate.Subject}) does not name the endpoint host";
            return false;
        }

        // With CA certificates given, the TLS layer may have checked against those alone
        // (ChainPolicy), or against the system's roots alone (the MQTT client): accept either.
        if (_extraRoots.Count > 0 && (ChainsToExtraRoot(certificate, chain) || ChainsToSystemRoot(certificate, chain)))
        {
            LastFailure = null;
            return true;
        }

        LastFailure = $"certificate chain check failed: {certificate.Subject} is not issued by a trusted authority"
            + (_extraRoots.Count == 0 ? $" (add its CA with {_caOption})" : " (not by the system roots nor the given CA certificates)");
        return false;
    }

    /// <summary>
    /// The chain policy for the TLS handshake to check the service's certificate with first, or
    /// null for the system's roots. With CA certificates given (a private CA, the local service),
    /// those alone: building a chain against the system's roots loads and parses the whole
    /// system store, a few hundred milliseconds of every proxy start. <see cref="Validate"/>
    /// still accepts a certificate of a system root when this check fails.
    /// </summary>
    public X509ChainPolicy? CreateChainPolicy()
    {
        if (_skip || _extraRoots.Count == 0)
        {
            return null;
        }

        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
        };
        policy.CustomTrustStore.AddRange(_extraRoots);
        return policy;
    }

    private bool ChainsToExtraRoot(X509Certificate certificate, X509Chain? presented)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_extraRoots);
        return Builds(chain, certificate, presented);
    }

    private static bool ChainsToSystemRoot(X509Certificate certificate, X509Chain? presented)
    {
        using var chain = new X509Chain();
        return Builds(chain, certificate, presented);
    }

    /// <summary>Builds <paramref name="chain"/> for the leaf, with the certificates the peer presented as candidates, without revocation checks.</summary>
    private static bool Builds(X509Chain chain, X509Certificate certificate, X509Chain? presented)
    {
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }
}
