using System.Net.WebSockets;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Transport;

namespace AwsTunnel.Engine.Service;

/// <summary>One local proxy connected to a tunnel of the local service.</summary>
internal sealed class ServicePeer
{
    public ServicePeer(TunnelMode mode, TunnelLink link, ProtocolVersion version, string channelId)
    {
        Mode = mode;
        Link = link;
        Version = version;
        ChannelId = channelId;
    }

    public TunnelMode Mode { get; }
    public TunnelLink Link { get; }
    public ProtocolVersion Version { get; }
    public string ChannelId { get; }

    /// <summary>Closes this peer's WebSocket with a status the proxy can act on.</summary>
    public Task CloseAsync(WebSocketCloseStatus status, string description) =>
        Link.StopAsync(TimeSpan.FromSeconds(2), status, description, discardQueued: true);
}
