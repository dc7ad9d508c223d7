using System.Threading.Channels;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Settings;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.Engine.Tunnel;

/// <summary>
/// What source and destination share: the per-service stream table, DATA delivery, resets
/// both ways, SESSION_RESET and the loss of the WebSocket. Subclasses start streams.
/// </summary>
internal abstract class TunnelSide : ITunnelSender
{
    protected readonly object Gate = new();
    protected readonly ILogger Logger;
    protected readonly ProxySettings Settings;
    private readonly Dictionary<string, ServiceStreams> _services = new(StringComparer.Ordinal);
    private volatile ITunnelSender? _link;
    private readonly SendBudget _sendBudget = new();

    protected TunnelSide(ProxySettings settings, ProtocolVersion peerMessageFormat, ILogger logger)
    {
        Settings = settings;
        PeerMessageFormat = peerMessageFormat;
        Logger = logger;
    }

    /// <summary>The message format the peer proxy understands (<c>-y</c>); V1 and V2 carry no connection ids.</summary>
    protected ProtocolVersion PeerMessageFormat { get; }

    /// <summary>
    /// V1's wire form has no service ids: a V1 link, or a peer declared V1 with <c>-y V1</c>, gets ""
    /// in every message we send, as the reference proxy does; a V1 peer may not tolerate any other value.
    /// </summary>
    protected bool OmitsServiceIds => Version == ProtocolVersion.V1 || PeerMessageFormat == ProtocolVersion.V1;

    /// <summary>The service id to put on the wire for <paramref name="service"/>.</summary>
    protected string WireServiceId(ServiceStreams service) => OmitsServiceIds ? string.Empty : service.ServiceId;

    /// <summary>Raised when a local connection opens or closes.</summary>
    public event Action<ConnectionEvent>? ConnectionChanged;

    public abstract TunnelMode Mode { get; }

    /// <summary>The negotiated protocol of the current link.</summary>
    public ProtocolVersion Version { get; private set; } = ProtocolVersion.V3;

    /// <summary>True while a link is attached.</summary>
    public bool IsLinked => _link is not null;

    /// <summary>Sets the resolved service mappings (once, at start).</summary>
    public void Configure(IReadOnlyDictionary<string, ServiceMapping> services)
    {
        lock (Gate)
        {
            _services.Clear();
            foreach (var (id, mapping) in services)
            {
                _services[id] = new ServiceStreams(mapping);
            }
        }
    }

    /// <summary>The resolved mappings, keyed by wire service id.</summary>
    public IReadOnlyDictionary<string, ServiceMapping> Services
    {
        get
        {
            lock (Gate)
            {
                return _services.ToDictionary(p => p.Key, p => p.Value.Mapping);
            }
        }
    }

    /// <summary>A new WebSocket link is up.</summary>
    public void AttachLink(ITunnelSender link, ProtocolVersion version)
    {
        Version = version;
        _link = link;
    }

    /// <summary>The link is gone: every stream is invalid, every local connection closes (after flushing).</summary>
    public void DetachLink(string reason)
    {
        _link = null;
        CloseEverything(reason);
    }

    /// <summary>Stop: tell the peer every connection is ending, then close them all.</summary>
    public async Task ResetAllAsync(string reason, CancellationToken cancellationToken)
    {
        List<Message> resets;
        lock (Gate)
        {
            resets = _services.Values
                .Where(s => s.ActiveStreamId != 0)
                .SelectMany(s => s.UsesConnectionIds
                    ? s.Connections.Keys.Select(id => Messages.ConnectionReset(s.ActiveStreamId, WireServiceId(s), id))
                    : new[] { Messages.StreamReset(s.ActiveStreamId, WireServiceId(s)) })
                .ToList();
        }

        foreach (var reset in resets)
        {
            await SendAsync(reset, cancellationToken).ConfigureAwait(false);
        }

        CloseEverything(reason);
    }

    /// <summary>Every live connection.</summary>
    public IReadOnlyList<ConnectionInfo> Connections()
    {
        lock (Gate)
        {
            return _services.Values.SelectMany(s => s.Connections.Values).Select(c => c.Snapshot()).ToList();
        }
    }

    /// <summary>Handles one message received from the service; takes ownership of its pooled payload buffer.</summary>
    public async ValueTask OnMessageAsync(Message message, byte[]? rentedPayload, CancellationToken cancellationToken)
    {
        var check = MessageRules.CheckReceivedByProxy(message, Mode);
        if (check.Outcome != MessageOutcome.Accept || message.Type != Message.Types.Type.Data)
        {
            PooledPayload.Return(rentedPayload);
            rentedPayload = null;
        }

        if (check.Outcome == MessageOutcome.Ignore)
        {
            Logger.LogDebug("Ignored a message: {Reason}", check.Reason);
            return;
        }

        if (check.Outcome == MessageOutcome.Violation)
        {
            OnViolation(message, check.Reason!);
            return;
        }

        switch (message.Type)
        {
            case Message.Types.Type.Data:
                await OnDataAsync(message, rentedPayload, cancellationToken).ConfigureAwait(false);
                break;
            case Message.Types.Type.StreamReset:
                OnStreamReset(message);
                break;
            case Message.Types.Type.ConnectionReset:
                OnConnectionReset(message);
                break;
            case Message.Types.Type.SessionReset:
                Logger.LogInformation("The service reset the session; closing every connection.");
                CloseEverything("session reset by the service");
                break;
            case Message.Types.Type.StreamStart:
                OnStreamStart(message);
                break;
            case Message.Types.Type.ConnectionStart:
                OnConnectionStart(message);
                break;
            case Message.Types.Type.ServiceIds:
                // Handled by the session before it reaches a side.
                break;
        }
    }

    /// <summary>Destination only.</summary>
    protected virtual void OnStreamStart(Message message) { }

    /// <summary>Destination only.</summary>
    protected virtual void OnConnectionStart(Message message) { }

    /// <summary>Queues a message on the current link. Fails quietly when there is none.</summary>
    public async ValueTask SendAsync(Message message, CancellationToken cancellationToken)
    {
        var link = _link;
        if (link is null)
        {
            throw new ChannelClosedException("The tunnel is not connected.");
        }

        await link.SendAsync(message, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Queues a DATA message wrapping a pooled buffer; the buffer is returned even when the link is gone.</summary>
    public ValueTask SendPooledAsync(Message message, byte[] rentedPayload, Action? written, CancellationToken cancellationToken)
    {
        var link = _link;
        if (link is null)
        {
            PooledPayload.Return(rentedPayload);
            written?.Invoke();
            throw new ChannelClosedException("The tunnel is not connected.");
        }

        return link.SendPooledAsync(message, rentedPayload, written, cancellationToken);
    }

    /// <summary>Finds the state of the service a message names ("" or unknown with one service = that one).</summary>
    protected ServiceStreams? FindService(string serviceId)
    {
        if (_services.TryGetValue(serviceId, out var found))
        {
            return found;
        }

        return serviceId.Length == 0 && _services.Count == 1 ? _services.Values.First() : null;
    }

    /// <summary>Makes and registers a connection; the caller attaches its socket.</summary>
    protected LocalConnection AddConnection(ServiceStreams service, uint connectionId)
    {
        var key = new ConnectionKey(service.ServiceId, service.ActiveStreamId, connectionId);
        var connection = new LocalConnection(
            key, WireServiceId(service), service.UsesConnectionIds, this, _sendBudget, OnLocalEnd,
            Math.Min(Settings.TcpReadBufferSize, Settings.MaxPayloadSize), Settings.ConnectionBufferLimitBytes,
            TimeSpan.FromMilliseconds(Settings.ConnectionStallTimeoutMs), Logger);
        service.Connections[connectionId] = connection;
        return connection;
    }

    /// <summary>Reports a new connection to subscribers.</summary>
    protected void Announce(LocalConnection connection, string kind, string? reason = null) =>
        ConnectionChanged?.Invoke(new ConnectionEvent(kind, connection.Snapshot(), reason));

    /// <summary>Sends without waiting for the result; the link may already be gone.</summary>
    protected void SendInBackground(Message message)
    {
        _ = SendQuietlyAsync(message);
    }

    private async Task SendQuietlyAsync(Message message)
    {
        try
        {
            await SendAsync(message, CancellationToken.None).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            Logger.LogDebug("Not sent, the tunnel is down: {Type} for stream {StreamId}", message.Type, message.StreamId);
        }
    }

    /// <summary>A local connection ended on its own: tell the peer, forget it.</summary>
    private void OnLocalEnd(LocalConnection connection, string reason)
    {
        Message? reset = null;
        lock (Gate)
        {
            var service = FindService(connection.Key.ServiceId);
            if (service is not null && service.ActiveStreamId == connection.Key.StreamId &&
                service.Connections.TryGetValue(connection.Key.ConnectionId, out var current) && ReferenceEquals(current, connection))
            {
                service.Connections.Remove(connection.Key.ConnectionId);
                if (service.UsesConnectionIds)
                {
                    reset = Messages.ConnectionReset(service.ActiveStreamId, WireServiceId(service), connection.Key.ConnectionId);
                }
                else
                {
                    reset = Messages.StreamReset(service.ActiveStreamId, WireServiceId(service));
                    service.EndStream().ForEach(c => c.CloseFromTunnel("its stream ended"));
                }
            }
        }

        if (reset is not null)
        {
            SendInBackground(reset);
        }

        Logger.LogInformation("Connection {Key} closed: {Reason}", connection.Key, reason);
        Announce(connection, "Closed", reason);
    }

    private async ValueTask OnDataAsync(Message message, byte[]? rentedPayload, CancellationToken cancellationToken)
    {
        LocalConnection? target = null;
        lock (Gate)
        {
            var service = FindService(message.ServiceId);
            if (service is not null && service.ActiveStreamId == message.StreamId)
            {
                service.Connections.TryGetValue(message.ConnectionId == 0 ? 1 : message.ConnectionId, out target);
            }
        }

        if (target is null)
        {
            PooledPayload.Return(rentedPayload);
            Logger.LogTrace("Dropped stale DATA for {Service} stream {StreamId} connection {ConnectionId}",
                message.ServiceId, message.StreamId, message.ConnectionId);
            return;
        }

        await target.DeliverAsync(message.Payload.Memory, rentedPayload, cancellationToken).ConfigureAwait(false);
    }

    private void OnStreamReset(Message message)
    {
        List<LocalConnection> ended;
        lock (Gate)
        {
            var service = FindService(message.ServiceId);
            if (service is null || service.ActiveStreamId != message.StreamId)
            {
                Logger.LogDebug("Ignored a stale STREAM_RESET for {Service} stream {StreamId}", message.ServiceId, message.StreamId);
                return;
            }

            ended = service.EndStream();
        }

        CloseAll(ended, "the peer reset the stream");
    }

    private void OnConnectionReset(Message message)
    {
        LocalConnection? ended = null;
        uint id = message.ConnectionId == 0 ? 1 : message.ConnectionId;
        lock (Gate)
        {
            var service = FindService(message.ServiceId);
            if (service is not null && service.ActiveStreamId == message.StreamId && service.Connections.Remove(id, out ended) &&
                !service.UsesConnectionIds)
            {
                service.EndStream();
            }
        }

        if (ended is null)
        {
            Logger.LogDebug("Ignored a stale CONNECTION_RESET for {Service} stream {StreamId} connection {ConnectionId}",
                message.ServiceId, message.StreamId, id);
            return;
        }

        CloseAll(new List<LocalConnection> { ended }, "the peer reset the connection");
    }

    /// <summary>A received message broke the rules: reset the stream it names, keep the session.</summary>
    protected virtual void OnViolation(Message message, string reason)
    {
        Logger.LogWarning("Protocol violation from the service: {Reason}", reason);
        if (!MessageRules.IsStreamBound(message.Type) || message.StreamId == 0)
        {
            return;
        }

        List<LocalConnection>? ended = null;
        lock (Gate)
        {
            var service = FindService(message.ServiceId);
            if (service is not null && service.ActiveStreamId == message.StreamId && Mode == TunnelMode.Destination)
            {
                ended = service.EndStream();
            }
        }

        if (ended is not null)
        {
            SendInBackground(Messages.StreamReset(message.StreamId, message.ServiceId));
            CloseAll(ended, "protocol violation on the stream");
        }
    }

    protected void CloseEverything(string reason)
    {
        List<LocalConnection> ended;
        lock (Gate)
        {
            ended = _services.Values.SelectMany(s => s.EndStream()).ToList();
        }

        CloseAll(ended, reason);
    }

    protected void CloseAll(List<LocalConnection> connections, string reason)
    {
        foreach (var connection in connections)
        {
            connection.CloseFromTunnel(reason);
            Logger.LogInformation("Connection {Key} closed: {Reason}", connection.Key, reason);
            Announce(connection, "Closed", reason);
        }
    }
}
