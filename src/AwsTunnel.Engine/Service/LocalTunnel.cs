using System.Net.WebSockets;
using System.Security.Cryptography;
using AwsTunnel.Engine.Protocol;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.Engine.Service;

/// <summary>
/// A tunnel on the local service: its two access tokens, its services, and the proxy
/// connected at each end. Shaped like the OpenTunnel response so it pipes into the Start
/// cmdlets. Tokens are secrets: <see cref="ToString"/> leaves them out.
/// </summary>
public sealed class LocalTunnel
{
    private readonly object _gate = new();
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly PeerSlot _source = new();
    private readonly PeerSlot _destination = new();

    internal LocalTunnel(IReadOnlyList<string> services, Uri endpoint, TimeSpan lifetime, ILogger logger)
    {
        TunnelId = Guid.NewGuid().ToString("D");
        TunnelArn = $"arn:aws:iot:local:000000000000:tunnel/{TunnelId}";
        SourceAccessToken = NewToken();
        DestinationAccessToken = NewToken();
        Services = services;
        Endpoint = endpoint;
        CreatedAt = DateTimeOffset.Now;
        ExpiresAt = CreatedAt + lifetime;
        _logger = logger;
    }

    public string TunnelId { get; }
    public string TunnelArn { get; }

    /// <summary>Secret: the token for the source end.</summary>
    public string SourceAccessToken { get; }

    /// <summary>Secret: the token for the destination end.</summary>
    public string DestinationAccessToken { get; }

    public IReadOnlyList<string> Services { get; }

    /// <summary>The service endpoint the proxies connect to.</summary>
    public Uri Endpoint { get; }

    public DateTimeOffset CreatedAt { get; }
    public DateTimeOffset ExpiresAt { get; }

    /// <summary>True until the tunnel is closed or expires.</summary>
    public bool IsOpen => !_closed.Task.IsCompleted;

    public bool SourceConnected { get { lock (_gate) { return _source.Peer is not null; } } }
    public bool DestinationConnected { get { lock (_gate) { return _destination.Peer is not null; } } }

    /// <summary>Completes when the tunnel is closed.</summary>
    public Task Closed => _closed.Task;

    public override string ToString() =>
        $"Tunnel {TunnelId} [{string.Join(", ", Services)}] at {Endpoint} ({(IsOpen ? "open" : "closed")})";

    /// <summary>The mode a token opens, if it belongs to this tunnel.</summary>
    internal TunnelMode? ModeOf(string token)
    {
        if (CryptographicOperations.FixedTimeEquals(System.Text.Encoding.UTF8.GetBytes(token), System.Text.Encoding.UTF8.GetBytes(SourceAccessToken)))
        {
            return TunnelMode.Source;
        }

        if (CryptographicOperations.FixedTimeEquals(System.Text.Encoding.UTF8.GetBytes(token), System.Text.Encoding.UTF8.GetBytes(DestinationAccessToken)))
        {
            return TunnelMode.Destination;
        }

        return null;
    }

    /// <summary>
    /// Applies the client-token rules before a handshake is accepted: without a client token
    /// an access token works once; with one, every later connect must repeat it.
    /// Returns the refusal reason, or null when the connect may proceed.
    /// </summary>
    internal string? Admit(TunnelMode mode, string? clientToken)
    {
        lock (_gate)
        {
            if (!IsOpen)
            {
                return "the tunnel is closed";
            }

            var slot = Slot(mode);
            if (slot.UsedWithoutClientToken)
            {
                return "the access token was already used by a connection without a client token";
            }

            if (slot.ClientToken is not null && slot.ClientToken != clientToken)
            {
                return "the access token is bound to another client token";
            }

            return null;
        }
    }

    /// <summary>Makes <paramref name="peer"/> the proxy at its end, replacing (and closing) any earlier one.</summary>
    internal void Attach(ServicePeer peer, string? clientToken)
    {
        ServicePeer? replaced;
        ServicePeer? other;
        lock (_gate)
        {
            var slot = Slot(peer.Mode);
            replaced = slot.Peer;
            slot.Peer = peer;
            slot.ClientToken ??= clientToken;
            slot.UsedWithoutClientToken |= clientToken is null;
            other = Slot(Opposite(peer.Mode)).Peer;
        }

        if (replaced is not null)
        {
            _logger.LogInformation("Tunnel {TunnelId}: a new {Mode} replaced the connected one (channel {Old}).",
                TunnelId, peer.Mode.ToWire(), replaced.ChannelId);
            _ = replaced.CloseAsync(WebSocketCloseStatus.PolicyViolation, "replaced by a newer connection with the same access token");

            // The replaced end's streams die with it; its Detach will find the slot taken, so tell the other end now.
            other?.Link.TrySend(Messages.SessionReset());
        }

        if (peer.Version != ProtocolVersion.V1)
        {
            peer.Link.TrySend(Messages.ServiceIds(Services));
        }
    }

    /// <summary>A peer's WebSocket ended: free its end and reset the other's streams.</summary>
    internal void Detach(ServicePeer peer)
    {
        ServicePeer? other = null;
        lock (_gate)
        {
            var slot = Slot(peer.Mode);
            if (!ReferenceEquals(slot.Peer, peer))
            {
                return;
            }

            slot.Peer = null;
            if (IsOpen)
            {
                other = Slot(Opposite(peer.Mode)).Peer;
            }
        }

        other?.Link.TrySend(Messages.SessionReset());
    }

    /// <summary>Forwards a message from one end to the other; a pooled payload goes with it, uncopied.</summary>
    internal async ValueTask ForwardAsync(ServicePeer from, Message message, byte[]? rentedPayload, CancellationToken cancellationToken)
    {
        ServicePeer? to;
        lock (_gate)
        {
            to = ReferenceEquals(Slot(from.Mode).Peer, from) ? Slot(Opposite(from.Mode)).Peer : null;
        }

        if (to is not null)
        {
            try
            {
                if (rentedPayload is null)
                {
                    await to.Link.SendAsync(message, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    // The link owns the buffer from here, whatever happens.
                    var pooled = rentedPayload;
                    rentedPayload = null;
                    await to.Link.SendPooledAsync(message, pooled, null, cancellationToken).ConfigureAwait(false);
                }

                return;
            }
            catch (System.Threading.Channels.ChannelClosedException)
            {
                // The other end is going away right now; treat it as absent.
            }
        }

        PooledPayload.Return(rentedPayload);

        // Nobody at the other end: refuse new streams at once rather than leave the client hanging.
        switch (message.Type)
        {
            case Message.Types.Type.StreamStart:
                from.Link.TrySend(Messages.StreamReset(message.StreamId, message.ServiceId));
                break;
            case Message.Types.Type.ConnectionStart:
                from.Link.TrySend(Messages.ConnectionReset(message.StreamId, message.ServiceId, message.ConnectionId));
                break;
        }
    }

    /// <summary>Fault injection: cuts both ends' WebSockets without a close handshake, as a network loss would.</summary>
    internal void DropConnections()
    {
        ServicePeer? source, destination;
        lock (_gate)
        {
            source = _source.Peer;
            destination = _destination.Peer;
        }

        source?.Link.Abort();
        destination?.Link.Abort();
    }

    /// <summary>Closes the tunnel: both ends see a normal close and the tokens stop working.</summary>
    internal async Task CloseAsync(string reason)
    {
        ServicePeer? source, destination;
        lock (_gate)
        {
            if (!_closed.TrySetResult())
            {
                return;
            }

            source = _source.Peer;
            destination = _destination.Peer;
            _source.Peer = null;
            _destination.Peer = null;
        }

        _logger.LogInformation("Tunnel {TunnelId} closed: {Reason}", TunnelId, reason);
        await Task.WhenAll(
            source?.CloseAsync(WebSocketCloseStatus.NormalClosure, reason) ?? Task.CompletedTask,
            destination?.CloseAsync(WebSocketCloseStatus.NormalClosure, reason) ?? Task.CompletedTask).ConfigureAwait(false);
    }

    private PeerSlot Slot(TunnelMode mode) => mode == TunnelMode.Source ? _source : _destination;

    private static TunnelMode Opposite(TunnelMode mode) => mode == TunnelMode.Source ? TunnelMode.Destination : TunnelMode.Source;

    private static string NewToken() =>
        RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 96);

    private sealed class PeerSlot
    {
        public ServicePeer? Peer;
        public string? ClientToken;
        public bool UsedWithoutClientToken;
    }
}
