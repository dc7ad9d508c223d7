using System.Security.Cryptography.X509Certificates;
using AwsTunnel.Engine.Service;

namespace AwsTunnel.PowerShell.LocalService;

/// <summary>
/// A tunnel on a local tunneling service (New-LocalTunnel). Shaped like the AWS
/// <c>OpenTunnelResponse</c> (TunnelId, TunnelArn, SourceAccessToken, DestinationAccessToken)
/// plus the Endpoint and Certificate of the local service, so it pipes into Start-TunnelSource
/// and Start-TunnelDestination exactly like Open-IOTSTTunnel output. The tokens are secrets:
/// they are left out of ToString and of the default views.
/// </summary>
public sealed class LocalTunnelInfo
{
    private readonly LocalTunnel _tunnel;

    internal LocalTunnelInfo(LocalTunnel tunnel, LocalTunnelServiceInfo service)
    {
        _tunnel = tunnel;
        LocalService = service;
    }

    /// <summary>The tunnel id (a GUID).</summary>
    public string TunnelId => _tunnel.TunnelId;

    /// <summary>An ARN in the AWS shape: region <c>local</c>, or the region an OpenTunnel request was signed for.</summary>
    public string TunnelArn => _tunnel.TunnelArn;

    /// <summary>Secret: the token for the source end.</summary>
    public string SourceAccessToken => _tunnel.SourceAccessToken;

    /// <summary>Secret: the token for the destination end.</summary>
    public string DestinationAccessToken => _tunnel.DestinationAccessToken;

    /// <summary>The tunnel's service ids (DestinationConfig.services); empty for a single-stream tunnel.</summary>
    public string[] Services => _tunnel.Services.ToArray();

    /// <summary>The destination's IoT thing (DestinationConfig.thingName), if the tunnel was opened for one.</summary>
    public string? ThingName => _tunnel.ThingName;

    /// <summary>The endpoint of the local service (binds to -Endpoint of the Start cmdlets).</summary>
    public string Endpoint => _tunnel.Endpoint.ToString();

    /// <summary>The local service's self-signed certificate over wss (binds to -TrustedCertificate); null over ws.</summary>
    public X509Certificate2? Certificate => LocalService.Certificate;

    /// <summary>When the tunnel was created.</summary>
    public DateTimeOffset CreatedAt => _tunnel.CreatedAt;

    /// <summary>When the tunnel expires unless closed before.</summary>
    public DateTimeOffset ExpiresAt => _tunnel.ExpiresAt;

    /// <summary>True until Close-LocalTunnel, expiry or the service stopping.</summary>
    public bool IsOpen => _tunnel.IsOpen;

    /// <summary>A source proxy is connected.</summary>
    public bool SourceConnected => _tunnel.SourceConnected;

    /// <summary>A destination proxy is connected.</summary>
    public bool DestinationConnected => _tunnel.DestinationConnected;

    /// <summary>The service the tunnel lives on.</summary>
    public LocalTunnelServiceInfo LocalService { get; }

    /// <inheritdoc />
    public override string ToString() => _tunnel.ToString();

    internal Task CloseAsync() => LocalService.Service.CloseTunnelAsync(TunnelId);
}
