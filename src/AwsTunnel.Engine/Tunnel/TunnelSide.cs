using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Settings;
using AwsTunnel.Engine.Transport;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.Engine.Tunnel;

/// <summary>
/// What source and destination share: the per-service stream table, DATA delivery, resets
/// both ways, SESSION_RESET, the loss of the WebSocket and the full-queue policy. Subclasses
/// start streams.
/// <para>
/// <see cref="OnMessage"/> runs on the link's receive loop and never waits: a DATA payload is
/// queued on its connection (<see cref="LocalConnection.Deliver"/>) or the policy deals with
/// that connection alone. The policy for a full queue (the protocol has no per-stream flow
/// control, so the only alternative would be to stop reading the WebSocket, for every
/// connection): a connection whose client is more than <c>connection_buffer_limit_bytes</c>
/// behind is reset; when all connections together hold <c>tunnel_buffer_limit_bytes</c>, the
/// one furthest behind is reset; and a connection whose socket takes nothing for
/// <c>connection_stall_timeout_ms</c> while data waits is reset by the periodic progress check.
/// </para>
/// </summary>
internal abstract class TunnelSide
{
    protected readonly object Gate = new();
    protected readonly ILogger Logger;
    protected readonly ProxySettings Settings;
    protected readonly SessionTasks Tasks;
    private readonly SerialDispatcher _events;
    private readonly Dictionary<string, ServiceStreams> _services = new(StringComparer.Ordinal);
    private readonly HashSet<LocalConnection> _live = new();
    private readonly ConnectionLimits _limits;
    private volatile TunnelLink? _link;

    protected TunnelSide(ProxySettings settings, ProtocolVersion peerMessageFormat, ILogger logger, SessionTasks tasks, SerialDispatcher events)
    {
        Settings = settings;
        PeerMessageFormat = peerMessageFormat;
        Logger = logger;
        Tasks = tasks;
        _events = events;
        _limits = ConnectionLimits.From(settings);
        ReceiveBudget = new ReceiveBudget(settings.TunnelBufferLimitBytes);
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

    /// <summary>Raised (off the I/O loops, in order) when a local connection opens or closes.</summary>
    public event Action<ConnectionEvent>? ConnectionChanged;

    public abstract TunnelMode Mode { get; }

    /// <summary>The negotiated protocol of the current link.</summary>
    public ProtocolVersion Version { get; private set; } = ProtocolVersion.V3;

    /// <summary>True while a link is attached.</summary>
    public bool IsLinked => _link is not null;

    /// <summary>The bytes all connections hold for their sockets (tunnel_buffer_limit_bytes).</summary>
    public ReceiveBudget ReceiveBudget { get; }

    /// <summary>Connections not yet fully closed (closing ones included).</summary>
    public int LiveConnections
    {
        get
        {
            lock (Gate)
            {
                return _live.Count;
            }
        }
    }

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
    public void AttachLink(TunnelLink link, ProtocolVersion version)
    {
        Version = version;
        _link = link;
    }

    /// <summary>The link is gone: every stream is invalid, every local connection is cut (RST: what the peer sent last may be lost).</summary>
    public void DetachLink(string reason)
    {
        _link = null;
        List<LocalConnection> ended;
        lock (Gate)
        {
            ended = _services.Values.SelectMany(s => s.EndStream()).ToList();
        }

        AbortAll(ended, reason);
    }

    /// <summary>
    /// Stop: tell the peer every connection is ending, let each connection write what it has
    /// received (then RST, see <see cref="LocalConnection.CloseFromTunnel"/>) until
    /// <paramref name="flushDeadline"/>, then cut the rest at once (their clients did not get
    /// everything). Returns once every connection is closed.
    /// </summary>
    public async Task CloseAllAsync(string reason, TimeSpan flushDeadline)
    {
        List<LocalConnection> ended;
        List<Message> resets;
        lock (Gate)
        {
            resets = _services.Values
                .Where(s => s.ActiveStreamId != 0)
                .SelectMany(s => s.UsesConnectionIds
                    ? s.Connections.Keys.Select(id => Messages.ConnectionReset(s.ActiveStreamId, WireServiceId(s), id))
                    : new[] { Messages.StreamReset(s.ActiveStreamId, WireServiceId(s)) })
                .ToList();
            ended = _services.Values.SelectMany(s => s.EndStream()).ToList();
        }

        resets.ForEach(r => TryPost(r));
        CloseAll(ended, reason);

        var closing = LiveSnapshot();
        var flushed = Task.WhenAll(closing.Select(c => c.Closed));
        if (await Task.WhenAny(flushed, Task.Delay(flushDeadline)).ConfigureAwait(false) != flushed)
        {
            AbortAll(LiveSnapshot().Where(c => !c.Closed.IsCompleted).ToList(), $"{reason}; data was still waiting for the local client");
        }

        await Task.WhenAll(LiveSnapshot().Select(c => c.Closed)).ConfigureAwait(false);
    }

    /// <summary>Cuts every connection at once (RST), e.g. when a stop's deadline has passed.</summary>
    public void AbortEverything(string reason)
    {
        lock (Gate)
        {
            foreach (var service in _services.Values)
            {
                service.EndStream();
            }
        }

        foreach (var connection in LiveSnapshot())
        {
            connection.AbortFromTunnel(reason);
        }
    }

    /// <summary>Every live connection.</summary>
    public IReadOnlyList<ConnectionInfo> Connections()
    {
        lock (Gate)
        {
            return _services.Values.SelectMany(s => s.Connections.Values).Select(c => c.Snapshot()).ToList();
        }
    }

    /// <summary>
    /// Handles one message received from the service, on the link's receive loop; owns
    /// <paramref name="payload"/> from here. Never waits.
    /// </summary>
    public void OnMessage(Message message, PooledPayload? payload)
    {
        MessageTrace.Log(Logger, "Received", message);

        var check = MessageRules.CheckReceivedByProxy(message, Mode);
        if (check.Outcome != MessageOutcome.Accept || message.Type != Message.Types.Type.Data)
        {
            payload?.Dispose();
            payload = null;
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
                OnData(message, payload);
                break;
            case Message.Types.Type.StreamReset:
                OnStreamReset(message);
                break;
            case Message.Types.Type.ConnectionReset:
                OnConnectionReset(message);
                break;
            case Message.Types.Type.SessionReset:
                Logger.LogInformation("The service reset the session; closing every connection.");
                DetachStreams("session reset by the service");
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

    /// <summary>Queues a control message on the current link without waiting; false when there is none.</summary>
    protected bool TryPost(Message message)
    {
        MessageTrace.Log(Logger, "Sending", message);

        if (_link is { } link && link.TryPost(message))
        {
            return true;
        }

        Logger.LogDebug("Not sent, the tunnel is down: {Type} for stream {StreamId}", message.Type, message.StreamId);
        return false;
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

    /// <summary>
    /// Makes and registers a connection on the current link (null when there is none); the caller
    /// attaches its socket. Called under <see cref="Gate"/>.
    /// </summary>
    protected LocalConnection? AddConnection(ServiceStreams service, uint connectionId)
    {
        if (_link is not { } link)
        {
            return null;
        }

        var key = new ConnectionKey(service.ServiceId, service.ActiveStreamId, connectionId);
        var connection = new LocalConnection(key, WireServiceId(service), service.UsesConnectionIds, link, ReceiveBudget, _limits, OnLocalEnd, Logger);
        service.Connections[connectionId] = connection;
        service.LiveConnections++;
        _live.Add(connection);
        connection.Closed.ContinueWith(_ => Forget(connection, service), CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return connection;
    }

    /// <summary>Starts relaying on <paramref name="socket"/>; the connection's task belongs to the session.</summary>
    protected bool Attach(LocalConnection connection, System.Net.Sockets.Socket socket)
    {
        if (connection.Attach(socket) is not { } running)
        {
            return false;
        }

        Tasks.Track(running);
        return true;
    }

    /// <summary>Reports a connection event to subscribers, off the calling loop.</summary>
    protected void Announce(LocalConnection connection, string kind, string? reason = null)
    {
        var change = new ConnectionEvent(kind, connection.Snapshot(), reason);
        _events.Post(() => ConnectionChanged?.Invoke(change));
    }

    /// <summary>
    /// The progress check: every <c>connection_stall_timeout_ms</c> / 4 (at most 1 s), resets the
    /// connections whose socket took nothing for the stall timeout while data waited.
    /// </summary>
    public async Task CheckProgressAsync(CancellationToken cancellationToken)
    {
        var period = TimeSpan.FromMilliseconds(Math.Clamp(Settings.ConnectionStallTimeoutMs / 4, 20, 1000));
        using var timer = new PeriodicTimer(period);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                long now = Environment.TickCount64;
                foreach (var connection in LiveSnapshot())
                {
                    connection.ResetIfStalled(now);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The session ended.
        }
    }

    /// <summary>A local connection ended on its own (or by the policy): tell the peer, forget it.</summary>
    private void OnLocalEnd(LocalConnection connection, string reason)
    {
        Message? reset = null;
        List<LocalConnection>? streamEnded = null;
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
                    streamEnded = service.EndStream();
                }
            }
        }

        if (reset is not null)
        {
            TryPost(reset);
        }

        if (streamEnded is not null)
        {
            CloseAll(streamEnded, "its stream ended");
        }

        Logger.LogInformation("Connection {Key} closed: {Reason}", connection.Key, reason);
        Announce(connection, "Closed", reason);
    }

    private void Forget(LocalConnection connection, ServiceStreams service)
    {
        lock (Gate)
        {
            _live.Remove(connection);
            service.LiveConnections--;
            if (service.Connections.TryGetValue(connection.Key.ConnectionId, out var current) && ReferenceEquals(current, connection))
            {
                service.Connections.Remove(connection.Key.ConnectionId);
            }
        }
    }

    private void OnData(Message message, PooledPayload? payload)
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

        if (target is null || payload is null)
        {
            payload?.Dispose();
            if (target is null)
            {
                Logger.LogTrace("Dropped stale DATA for {Service} stream {StreamId} connection {ConnectionId}",
                    message.ServiceId, message.StreamId, message.ConnectionId);
            }

            return;
        }

        // The budget is full: reset the clients furthest behind, one at a time, until the payload
        // fits. A reset frees its queue at once, but not the payload its socket is being written
        // from (that comes back when the cut write returns), so one reset may not be enough. The
        // connection receiving is reset when it is itself the furthest behind, or no other holds anything.
        var outcome = target.Deliver(payload);
        while (outcome == DeliveryOutcome.TunnelFull && FurthestBehind() is { } furthest && !ReferenceEquals(furthest, target))
        {
            furthest.Reset($"the tunnel's receive buffers are full ({ReceiveBudget.Limit} bytes, tunnel_buffer_limit_bytes) and its client is the furthest behind ({furthest.QueuedBytes} bytes)");
            outcome = target.Deliver(payload);
        }

        switch (outcome)
        {
            case DeliveryOutcome.Queued:
                return;
            case DeliveryOutcome.ConnectionFull:
                target.Reset($"its client is more than {_limits.BufferLimitBytes} bytes behind (connection_buffer_limit_bytes)");
                break;
            case DeliveryOutcome.TunnelFull:
                target.Reset($"the tunnel's receive buffers are full ({ReceiveBudget.Limit} bytes, tunnel_buffer_limit_bytes) and its client is the furthest behind");
                break;
        }

        payload.Dispose();
    }

    /// <summary>The open connection holding the most bytes for its client; null when none holds any.</summary>
    private LocalConnection? FurthestBehind()
    {
        LocalConnection? furthest = null;
        long most = 0;
        foreach (var connection in LiveSnapshot())
        {
            if (connection.IsEnding)
            {
                // An ending connection's queue is already dropped; resetting it again frees nothing.
                continue;
            }

            long queued = connection.QueuedBytes;
            if (queued > most)
            {
                most = queued;
                furthest = connection;
            }
        }

        return furthest;
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
            TryPost(Messages.StreamReset(message.StreamId, message.ServiceId));
            AbortAll(ended, "protocol violation on the stream");
        }
    }

    /// <summary>Every stream is gone at the peer (SESSION_RESET): cut every connection.</summary>
    private void DetachStreams(string reason)
    {
        List<LocalConnection> ended;
        lock (Gate)
        {
            ended = _services.Values.SelectMany(s => s.EndStream()).ToList();
        }

        AbortAll(ended, reason);
    }

    /// <summary>
    /// The tunnel ended these connections (a reset from the peer, a stop): each writes what it
    /// has, then closes with RST once its client has it all. Not FIN: the protocol cannot say
    /// whether the far end closed normally, so the client must not take the end as complete.
    /// </summary>
    protected void CloseAll(List<LocalConnection> connections, string reason)
    {
        foreach (var connection in connections)
        {
            connection.CloseFromTunnel(reason);
            Logger.LogInformation("Connection {Key} closed: {Reason}", connection.Key, reason);
            Announce(connection, "Closed", reason);
        }
    }

    /// <summary>Broken end from the tunnel: each connection is cut at once with RST.</summary>
    protected void AbortAll(List<LocalConnection> connections, string reason)
    {
        foreach (var connection in connections)
        {
            bool wasOpen = !connection.IsEnding;
            connection.AbortFromTunnel(reason);
            if (wasOpen)
            {
                Logger.LogInformation("Connection {Key} reset: {Reason}", connection.Key, reason);
                Announce(connection, "Closed", reason);
            }
        }
    }

    private List<LocalConnection> LiveSnapshot()
    {
        lock (Gate)
        {
            return _live.ToList();
        }
    }
}
