using System.Net;
using System.Net.Sockets;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Settings;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.Engine.Tunnel;

/// <summary>
/// The destination end: STREAM_START and CONNECTION_START open a TCP connection to the
/// service's target (retrying per <c>tcp.connection_retry_*</c>); failure is answered with a
/// reset. A STREAM_START for a service with an active stream replaces it. A STREAM_START
/// without a connection id comes from a V2 source and is answered without connection ids.
/// </summary>
internal sealed class DestinationSide : TunnelSide
{
    private readonly CancellationTokenSource _stop = new();

    public DestinationSide(ProxySettings settings, ProtocolVersion sourceClientType, ILogger logger, SessionTasks tasks, SerialDispatcher events)
        : base(settings, sourceClientType, logger, tasks, events)
    {
    }

    public override TunnelMode Mode => TunnelMode.Destination;

    /// <summary>Stops pending connect attempts.</summary>
    public void Stop() => _stop.Cancel();

    protected override void OnStreamStart(Message message)
    {
        List<LocalConnection> replaced;
        LocalConnection? connection;
        ServiceMapping target;
        lock (Gate)
        {
            var service = FindService(message.ServiceId);
            if (service is null)
            {
                Logger.LogWarning("STREAM_START for unknown service '{Service}'; resetting it.", message.ServiceId);
                TryPost(Messages.StreamReset(message.StreamId, message.ServiceId));
                return;
            }

            replaced = service.EndStream();
            service.ActiveStreamId = message.StreamId;
            // Mirror the source, whatever the link: the reference source puts connection id 1 on a
            // V2 link too, and drops DATA that comes back with id 0.
            service.UsesConnectionIds = message.ConnectionId != 0;
            connection = AddConnection(service, message.ConnectionId == 0 ? 1 : message.ConnectionId);
            target = service.Mapping;
        }

        AbortAll(replaced, "a new stream replaced it");
        if (connection is not null)
        {
            Tasks.Track(ConnectAsync(connection, target));
        }
    }

    protected override void OnConnectionStart(Message message)
    {
        LocalConnection? connection;
        ServiceMapping target;
        lock (Gate)
        {
            var service = FindService(message.ServiceId);
            if (service is null || service.ActiveStreamId != message.StreamId)
            {
                // The source believes in a stream this end does not have (e.g. it was started
                // while this end was reconnecting): reset it so the source starts a new one.
                Logger.LogDebug("CONNECTION_START for unknown stream {StreamId} of '{Service}'; resetting that stream.", message.StreamId, message.ServiceId);
                TryPost(Messages.StreamReset(message.StreamId, message.ServiceId));
                return;
            }

            uint id = message.ConnectionId == 0 ? 1 : message.ConnectionId;
            if (service.Connections.ContainsKey(id))
            {
                Logger.LogWarning("CONNECTION_START repeats connection id {ConnectionId} of {Service} stream {StreamId}; resetting it.",
                    id, message.ServiceId, message.StreamId);
                TryPost(Messages.ConnectionReset(message.StreamId, WireServiceId(service), id));
                return;
            }

            if (service.LiveConnections >= Settings.TcpMaxActiveConnections)
            {
                Logger.LogWarning("Refused connection {ConnectionId} of {Service}: {Count} connections are active or still closing, the maximum (tcp.max_active_connections).",
                    id, message.ServiceId, service.LiveConnections);
                TryPost(Messages.ConnectionReset(message.StreamId, WireServiceId(service), id));
                return;
            }

            service.UsesConnectionIds = true;
            connection = AddConnection(service, id);
            target = service.Mapping;
        }

        if (connection is not null)
        {
            Tasks.Track(ConnectAsync(connection, target));
        }
    }

    private async Task ConnectAsync(LocalConnection connection, ServiceMapping target)
    {
        string host = target.Host ?? "localhost";
        int retries = Settings.TcpConnectionRetryCount;
        string lastError = "not attempted";
        for (int attempt = 0; retries < 0 || attempt <= retries; attempt++)
        {
            if (connection.State != ConnectionState.Connecting || _stop.IsCancellationRequested)
            {
                return;
            }

            if (attempt > 0)
            {
                try
                {
                    await Task.Delay(Settings.TcpConnectionRetryDelayMs, _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await ConnectSocketAsync(socket, host, target.Port, _stop.Token).ConfigureAwait(false);
                if (IsConnectedToItself(socket))
                {
                    // A closed loopback port in the ephemeral range can "accept" a connection from
                    // itself (TCP simultaneous open): that is no target, and it would hold the port.
                    throw new SocketException((int)SocketError.ConnectionRefused);
                }

                if (Attach(connection, socket))
                {
                    Logger.LogInformation("Connection {Key} opened to {Target}", connection.Key, ServiceMapping.FormatHostPort(host, target.Port));
                    Announce(connection, "Opened");
                }

                return;
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
                socket.Dispose();
                lastError = ex.Message;
                Logger.LogDebug("Connecting {Key} to {Target} failed (attempt {Attempt}): {Reason}",
                    connection.Key, ServiceMapping.FormatHostPort(host, target.Port), attempt + 1, ex.Message);
            }
        }

        Logger.LogWarning("Could not connect {Key} to {Target} after {Attempts} attempts: {Reason}",
            connection.Key, ServiceMapping.FormatHostPort(host, target.Port), retries + 1, lastError);
        connection.FailToAttach($"the target {ServiceMapping.FormatHostPort(host, target.Port)} could not be reached: {lastError}");
    }

    private static bool IsConnectedToItself(Socket socket) =>
        socket.LocalEndPoint is IPEndPoint local && socket.RemoteEndPoint is IPEndPoint remote &&
        local.Port == remote.Port && local.Address.MapToIPv6().Equals(remote.Address.MapToIPv6());

    private static async Task ConnectSocketAsync(Socket socket, string host, int port, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host, out var address))
        {
            await socket.ConnectAsync(new IPEndPoint(address, port), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await socket.ConnectAsync(new DnsEndPoint(host, port), cancellationToken).ConfigureAwait(false);
        }
    }
}
