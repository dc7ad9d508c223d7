using System.Net;
using System.Net.Sockets;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Settings;
using AwsTunnel.Engine.Transport;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.Engine.Tunnel;

/// <summary>
/// The source end: one listener per service; the first connection of a service starts a
/// stream (STREAM_START), further simultaneous ones join it (CONNECTION_START, V3 only).
/// Listeners stay up through reconnects; a connection accepted while the tunnel is down is refused.
/// </summary>
internal sealed class SourceSide : TunnelSide
{
    private readonly List<(string ServiceId, Socket Listener)> _listeners = new();
    private readonly CancellationTokenSource _stop = new();
    private int _lastStreamId;

    public SourceSide(ProxySettings settings, ProtocolVersion destinationClientType, ILogger logger, SessionTasks tasks, SerialDispatcher events)
        : base(settings, destinationClientType, logger, tasks, events)
    {
    }

    public override TunnelMode Mode => TunnelMode.Source;

    /// <summary>The bound address and port of each service, keyed by service id ("" for V1).</summary>
    public IReadOnlyDictionary<string, IPEndPoint> ListenEndPoints
    {
        get
        {
            lock (Gate)
            {
                return _listeners.ToDictionary(l => l.ServiceId, l => (IPEndPoint)l.Listener.LocalEndPoint!);
            }
        }
    }

    /// <summary>The bound port of each service, keyed by service id ("" for V1).</summary>
    public IReadOnlyDictionary<string, int> Ports => ListenEndPoints.ToDictionary(p => p.Key, p => p.Value.Port);

    /// <summary>Binds one listener per service and starts accepting.</summary>
    /// <exception cref="TunnelStartException">an address or port cannot be bound.</exception>
    public async Task StartListenersAsync(string bindAddress, CancellationToken cancellationToken)
    {
        var address = await ResolveBindAddressAsync(bindAddress, cancellationToken).ConfigureAwait(false);
        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
        {
            Logger.LogWarning("Listening on the wildcard address {Address}: any host that can reach this machine can use the tunnel.", address);
        }

        foreach (var (serviceId, mapping) in Services)
        {
            var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                listener.Bind(new IPEndPoint(address, mapping.Port));
                listener.Listen(Math.Max(16, Settings.TcpMaxActiveConnections));
            }
            catch (SocketException ex)
            {
                listener.Dispose();
                StopListeners();
                string name = serviceId.Length == 0 ? "the tunnel" : serviceId;
                throw new TunnelStartException(TunnelStartFailure.PortInUse,
                    $"Cannot listen for {name} on {ServiceMapping.FormatHostPort(address.ToString(), mapping.Port)}: {ex.Message}. Choose another port, or 0 for any free port.", ex);
            }

            lock (Gate)
            {
                _listeners.Add((serviceId, listener));
            }

            int port = ((IPEndPoint)listener.LocalEndPoint!).Port;
            Logger.LogInformation("Listening for {Service} on {EndPoint}", serviceId.Length == 0 ? "the tunnel" : serviceId,
                ServiceMapping.FormatHostPort(address.ToString(), port));
            Tasks.Track(AcceptLoopAsync(serviceId, listener, _stop.Token));
        }
    }

    /// <summary>Closes every listener.</summary>
    public void StopListeners()
    {
        _stop.Cancel();
        lock (Gate)
        {
            foreach (var (_, listener) in _listeners)
            {
                listener.Dispose();
            }

            _listeners.Clear();
        }
    }

    private static async Task<IPAddress> ResolveBindAddressAsync(string bindAddress, CancellationToken cancellationToken)
    {
        if (string.Equals(bindAddress, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.Loopback;
        }

        if (IPAddress.TryParse(bindAddress.Trim('[', ']'), out var parsed))
        {
            return parsed;
        }

        try
        {
            var addresses = await Dns.GetHostAddressesAsync(bindAddress, cancellationToken).ConfigureAwait(false);
            return addresses.FirstOrDefault() ?? throw new SocketException((int)SocketError.HostNotFound);
        }
        catch (SocketException ex)
        {
            throw new TunnelStartException(TunnelStartFailure.InvalidOptions,
                $"Bind address '{bindAddress}' does not resolve ({ex.Message}). Give an IP address or a local host name.", ex);
        }
    }

    private async Task AcceptLoopAsync(string serviceId, Socket listener, CancellationToken cancellationToken)
    {
        var backoff = new AcceptBackoff(Logger, $"the listener for {(serviceId.Length == 0 ? "the tunnel" : serviceId)}");
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket accepted;
            try
            {
                await backoff.WaitForRoomAsync(cancellationToken).ConfigureAwait(false);
                accepted = await listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
                backoff.OnSuccess();
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex)
            {
                try
                {
                    await backoff.OnFailureAsync(ex, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            try
            {
                OnAccepted(serviceId, accepted);
            }
            catch (Exception ex)
            {
                // One connection's failure must never end the listener.
                Logger.LogWarning("Could not start a connection for {Service}: {Reason}", serviceId, ex.Message);
                accepted.Dispose();
            }
        }
    }

    private void OnAccepted(string serviceId, Socket socket)
    {
        var remote = socket.RemoteEndPoint;
        if (!IsLinked)
        {
            Logger.LogWarning("Refused a connection for {Service} from {Remote}: the tunnel is not connected right now.", serviceId, remote);
            socket.Dispose();
            return;
        }

        Message start;
        LocalConnection? connection;
        lock (Gate)
        {
            var service = FindService(serviceId)!;
            bool multiConnection = Version == ProtocolVersion.V3 && PeerMessageFormat == ProtocolVersion.V3;
            if (service.LiveConnections >= Settings.TcpMaxActiveConnections)
            {
                Logger.LogWarning("Refused a connection for {Service}: {Count} connections are active or still closing, the maximum (tcp.max_active_connections).",
                    serviceId, service.LiveConnections);
                socket.Dispose();
                return;
            }

            if (service.ActiveStreamId != 0 && (!multiConnection || !service.UsesConnectionIds))
            {
                if (service.Connections.Count > 0)
                {
                    Logger.LogWarning("Refused a second connection for {Service}: the destination speaks {Version}, which carries one connection per service.",
                        serviceId, multiConnection ? "V2" : PeerMessageFormat.ToString());
                    socket.Dispose();
                    return;
                }

                service.EndStream();
            }

            bool newStream = service.ActiveStreamId == 0;
            if (newStream)
            {
                service.ActiveStreamId = NextStreamId();
                service.UsesConnectionIds = multiConnection;
                service.NextConnectionId = 2;
                connection = AddConnection(service, 1);
            }
            else
            {
                connection = AddConnection(service, service.NextConnectionId++);
            }

            if (connection is null)
            {
                service.EndStream();
                Logger.LogWarning("Refused a connection for {Service} from {Remote}: the tunnel is not connected right now.", serviceId, remote);
                socket.Dispose();
                return;
            }

            start = newStream
                ? Messages.StreamStart(service.ActiveStreamId, connection.WireServiceId, connection.WireConnectionId)
                : Messages.ConnectionStart(service.ActiveStreamId, connection.WireServiceId, connection.Key.ConnectionId);

            // Posted under the lock: the start is queued before any DATA of the connection (its
            // read loop begins after this), and before a later connection's start.
            if (!TryPost(start))
            {
                socket.Dispose();
                connection.FailToAttach("the tunnel went down before the stream started");
                return;
            }
        }

        if (Attach(connection, socket))
        {
            Logger.LogInformation("Connection {Key} opened from {Remote}", connection.Key, remote);
            Announce(connection, "Opened");
        }
    }

    private int NextStreamId()
    {
        int next = _lastStreamId + 1;
        _lastStreamId = next == int.MaxValue ? 0 : next;
        return next;
    }
}
