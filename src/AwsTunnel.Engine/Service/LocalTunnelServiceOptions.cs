using System.Net;
using AwsTunnel.Engine.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AwsTunnel.Engine.Service;

/// <summary>Where and how the local tunneling service listens.</summary>
public sealed record LocalTunnelServiceOptions
{
    /// <summary>The address to listen on; loopback by default.</summary>
    public IPAddress Address { get; init; } = IPAddress.Loopback;

    /// <summary>The port; 0 picks a free one.</summary>
    public int Port { get; init; }

    /// <summary>Serve wss with a self-signed certificate made in memory, instead of ws.</summary>
    public bool UseTls { get; init; }

    /// <summary>The highest protocol version the service selects (to test V1/V2 peers).</summary>
    public ProtocolVersion MaxProtocol { get; init; } = ProtocolVersion.V3;

    /// <summary>Lifetime of a tunnel unless given when it is created (the service's default is 12 h).</summary>
    public TimeSpan DefaultTunnelLifetime { get; init; } = TimeSpan.FromHours(12);

    /// <summary>OpenTunnel answers LimitExceededException when this many tunnels are open.</summary>
    public int MaxOpenTunnels { get; init; } = 100;

    /// <summary>The region in the ARN of a tunnel opened without a signed request (New-LocalTunnel, --tunnel, unsigned API calls).</summary>
    public string Region { get; init; } = "local";

    /// <summary>The account id in tunnel ARNs.</summary>
    public string AccountId { get; init; } = "000000000000";

    /// <summary>
    /// When set, API requests must be SigV4-signed with this access key id (the signature itself
    /// is not verified: the service does not know the secret). Null accepts any caller.
    /// </summary>
    public string? AccessKeyId { get; init; }

    /// <summary>Where the service's log records go.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;
}
