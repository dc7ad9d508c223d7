using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
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
    private readonly List<KeyValuePair<string, string>> _tags;

    // Tokens replaced by a rotation, kept so a proxy that still uses one is told why it is refused.
    private readonly List<string> _revokedTokens = new();
    private string _sourceAccessToken = NewToken();
    private string _destinationAccessToken = NewToken();
    private string? _thingName;
    private DateTimeOffset _lastUpdatedAt;

    internal LocalTunnel(long sequence, LocalTunnelSpec spec, string region, string accountId, Uri endpoint, TimeSpan lifetime, ILogger logger)
    {
        Sequence = sequence;
        TunnelId = Guid.NewGuid().ToString("D");
        Region = region;
        TunnelArn = $"arn:aws:iot:{region}:{accountId}:tunnel/{TunnelId}";
        Services = spec.Services;
        _thingName = spec.ThingName;
        Description = spec.Description;
        _tags = spec.Tags.ToList();
        Endpoint = endpoint;
        Lifetime = lifetime;
        CreatedAt = DateTimeOffset.Now;
        ExpiresAt = CreatedAt + lifetime;
        _lastUpdatedAt = CreatedAt;
        _source.LastUpdatedAt = CreatedAt;
        _destination.LastUpdatedAt = CreatedAt;
        _logger = logger;
    }

    public string TunnelId { get; }
    public string TunnelArn { get; }

    /// <summary>The region in the ARN: the opener's credential scope, or the service's default.</summary>
    public string Region { get; }

    /// <summary>Secret: the token for the source end (a new one after a rotation).</summary>
    public string SourceAccessToken { get { lock (_gate) { return _sourceAccessToken; } } }

    /// <summary>Secret: the token for the destination end (a new one after a rotation).</summary>
    public string DestinationAccessToken { get { lock (_gate) { return _destinationAccessToken; } } }

    public IReadOnlyList<string> Services { get; }

    /// <summary>The destination's IoT thing (destinationConfig.thingName); a rotation may name another.</summary>
    public string? ThingName { get { lock (_gate) { return _thingName; } } }

    public string? Description { get; }

    /// <summary>The tunnel's tags, in the order they were added.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Tags { get { lock (_gate) { return _tags.ToList(); } } }

    /// <summary>The service endpoint the proxies connect to.</summary>
    public Uri Endpoint { get; }

    /// <summary>The maximum lifetime the tunnel was opened with (timeoutConfig).</summary>
    public TimeSpan Lifetime { get; }

    public DateTimeOffset CreatedAt { get; }
    public DateTimeOffset ExpiresAt { get; }

    /// <summary>When the tunnel last changed: closed, tokens rotated, tags changed.</summary>
    public DateTimeOffset LastUpdatedAt { get { lock (_gate) { return _lastUpdatedAt; } } }

    /// <summary>True until the tunnel is closed or expires.</summary>
    public bool IsOpen => !_closed.Task.IsCompleted;

    public bool SourceConnected { get { lock (_gate) { return _source.Peer is not null; } } }
    public bool DestinationConnected { get { lock (_gate) { return _destination.Peer is not null; } } }

    /// <summary>When a proxy last connected to or left the source end (creation time before any).</summary>
    public DateTimeOffset SourceLastUpdatedAt { get { lock (_gate) { return _source.LastUpdatedAt; } } }

    /// <summary>When a proxy last connected to or left the destination end (creation time before any).</summary>
    public DateTimeOffset DestinationLastUpdatedAt { get { lock (_gate) { return _destination.LastUpdatedAt; } } }

    /// <summary>Completes when the tunnel is closed.</summary>
    public Task Closed => _closed.Task;

    /// <summary>Creation order on its service, for stable ListTunnels paging.</summary>
    internal long Sequence { get; }

    public override string ToString() =>
        $"Tunnel {TunnelId} [{string.Join(", ", Services)}] at {Endpoint} ({(IsOpen ? "open" : "closed")})";

    /// <summary>The mode a token opens, if it is a current token of this tunnel.</summary>
    internal TunnelMode? ModeOf(string token)
    {
        lock (_gate)
        {
            if (TokenEquals(token, _sourceAccessToken))
            {
                return TunnelMode.Source;
            }

            if (TokenEquals(token, _destinationAccessToken))
            {
                return TunnelMode.Destination;
            }

            return null;
        }
    }

    /// <summary>True when the token was this tunnel's until RotateTunnelAccessToken replaced it.</summary>
    internal bool WasRotatedAway(string token)
    {
        lock (_gate)
        {
            return _revokedTokens.Any(revoked => TokenEquals(token, revoked));
        }
    }

    /// <summary>Adds tags, replacing the value of a key already there (TagResource).</summary>
    internal void Tag(IEnumerable<KeyValuePair<string, string>> tags)
    {
        lock (_gate)
        {
            foreach (var tag in tags)
            {
                int at = _tags.FindIndex(t => t.Key == tag.Key);
                if (at >= 0)
                {
                    _tags[at] = tag;
                }
                else
                {
                    _tags.Add(tag);
                }
            }

            _lastUpdatedAt = DateTimeOffset.Now;
        }
    }

    /// <summary>Removes the tags with these keys; absent keys are ignored (UntagResource).</summary>
    internal void Untag(IEnumerable<string> keys)
    {
        var remove = keys.ToHashSet(StringComparer.Ordinal);
        lock (_gate)
        {
            _tags.RemoveAll(t => remove.Contains(t.Key));
            _lastUpdatedAt = DateTimeOffset.Now;
        }
    }

    /// <summary>
    /// Replaces the access tokens of <paramref name="mode"/> (RotateTunnelAccessToken): the old
    /// ones are refused from now on, client-token bindings start afresh, and a proxy connected
    /// with an old token is disconnected. A closed tunnel keeps its tokens: returns false.
    /// </summary>
    internal bool RotateTokens(TunnelClientMode mode, string? thingName)
    {
        var disconnected = new List<ServicePeer>();
        ServicePeer? toReset = null;
        lock (_gate)
        {
            if (!IsOpen)
            {
                return false;
            }

            var now = DateTimeOffset.Now;
            if (mode is TunnelClientMode.Source or TunnelClientMode.All)
            {
                _revokedTokens.Add(_sourceAccessToken);
                _sourceAccessToken = NewToken();
                disconnected.AddRange(_source.Reset(now));
            }

            if (mode is TunnelClientMode.Destination or TunnelClientMode.All)
            {
                _revokedTokens.Add(_destinationAccessToken);
                _destinationAccessToken = NewToken();
                disconnected.AddRange(_destination.Reset(now));
            }

            _thingName = thingName ?? _thingName;
            _lastUpdatedAt = now;

            // The streams of a disconnected end die with it; the end that stays must hear so.
            if (disconnected.Count == 1)
            {
                toReset = Slot(Opposite(disconnected[0].Mode)).Peer;
            }
        }

        _logger.LogInformation("Tunnel {TunnelId}: access tokens rotated ({Mode})", TunnelId, mode);
        toReset?.Link.TryPost(Messages.SessionReset());
        foreach (var peer in disconnected)
        {
            // Not a normal close (that means the tunnel closed): the proxy reconnects, and is refused with the reason.
            _ = peer.CloseAsync(WebSocketCloseStatus.EndpointUnavailable, "the access token was rotated; connect with the new token");
        }

        return true;
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
            slot.LastUpdatedAt = DateTimeOffset.Now;
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
            other?.Link.TryPost(Messages.SessionReset());
        }

        if (peer.Version != ProtocolVersion.V1)
        {
            peer.Link.TryPost(Messages.ServiceIds(Services));
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
            slot.LastUpdatedAt = DateTimeOffset.Now;
            if (IsOpen)
            {
                other = Slot(Opposite(peer.Mode)).Peer;
            }
        }

        other?.Link.TryPost(Messages.SessionReset());
    }

    /// <summary>
    /// Forwards a message from one end to the other; a pooled payload goes with it, uncopied (the
    /// other link owns it from here). Waits for a turn on the other link: the service relays in
    /// arrival order, so the wait is its backpressure on the sending proxy.
    /// </summary>
    internal async ValueTask ForwardAsync(ServicePeer from, Message message, PooledPayload? payload, CancellationToken cancellationToken)
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
                await to.Link.SendAsync(new Transport.OutgoingFrame(message, payload), cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (System.Threading.Channels.ChannelClosedException)
            {
                // The other end is going away right now (the frame was dropped); treat it as absent.
            }
        }
        else
        {
            payload?.Dispose();
        }

        // Nobody at the other end: refuse new streams at once rather than leave the client hanging.
        switch (message.Type)
        {
            case Message.Types.Type.StreamStart:
                from.Link.TryPost(Messages.StreamReset(message.StreamId, message.ServiceId));
                break;
            case Message.Types.Type.ConnectionStart:
                from.Link.TryPost(Messages.ConnectionReset(message.StreamId, message.ServiceId, message.ConnectionId));
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

    /// <summary>
    /// Closes the tunnel: both ends see a normal close and the tokens stop working.
    /// False when it was closed already.
    /// </summary>
    internal async Task<bool> CloseAsync(string reason)
    {
        ServicePeer? source, destination;
        lock (_gate)
        {
            if (!_closed.TrySetResult())
            {
                return false;
            }

            source = _source.Peer;
            destination = _destination.Peer;
            var now = DateTimeOffset.Now;
            _source.Detach(now);
            _destination.Detach(now);
            _lastUpdatedAt = now;
        }

        _logger.LogInformation("Tunnel {TunnelId} closed: {Reason}", TunnelId, reason);
        await Task.WhenAll(
            source?.CloseAsync(WebSocketCloseStatus.NormalClosure, reason) ?? Task.CompletedTask,
            destination?.CloseAsync(WebSocketCloseStatus.NormalClosure, reason) ?? Task.CompletedTask).ConfigureAwait(false);
        return true;
    }

    private PeerSlot Slot(TunnelMode mode) => mode == TunnelMode.Source ? _source : _destination;

    private static TunnelMode Opposite(TunnelMode mode) => mode == TunnelMode.Source ? TunnelMode.Destination : TunnelMode.Source;

    private static bool TokenEquals(string given, string token) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(token));

    private static string NewToken() =>
        RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 96);

    private sealed class PeerSlot
    {
        public ServicePeer? Peer;
        public string? ClientToken;
        public bool UsedWithoutClientToken;
        public DateTimeOffset LastUpdatedAt;

        /// <summary>Frees the end; returns the proxy that was there.</summary>
        public ServicePeer? Detach(DateTimeOffset now)
        {
            var peer = Peer;
            Peer = null;
            if (peer is not null)
            {
                LastUpdatedAt = now;
            }

            return peer;
        }

        /// <summary>A new token: its client-token binding starts afresh and the connected proxy (returned) goes.</summary>
        public IEnumerable<ServicePeer> Reset(DateTimeOffset now)
        {
            ClientToken = null;
            UsedWithoutClientToken = false;
            return Detach(now) is { } peer ? new[] { peer } : Array.Empty<ServicePeer>();
        }
    }
}
