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

    /// <summary>Where the service's log records go.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;
}
