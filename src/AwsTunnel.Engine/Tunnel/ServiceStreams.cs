namespace AwsTunnel.Engine.Tunnel;

/// <summary>
/// The stream state of one service: its active stream id (0 = none), whether that stream
/// uses connection ids (V3) and its live connections. Guarded by the owning side's lock.
/// </summary>
internal sealed class ServiceStreams
{
    public ServiceStreams(ServiceMapping mapping) => Mapping = mapping;

    /// <summary>The local end point of this service (the wire service id is <c>Mapping.ServiceId</c>).</summary>
    public ServiceMapping Mapping { get; }

    public string ServiceId => Mapping.ServiceId;

    public int ActiveStreamId { get; set; }

    public bool UsesConnectionIds { get; set; }

    public uint NextConnectionId { get; set; } = 1;

    public Dictionary<uint, LocalConnection> Connections { get; } = new();

    /// <summary>
    /// Connections of this service not yet fully closed, including ones that left the stream and
    /// are still flushing: they hold sockets and buffers, so they count against tcp.max_active_connections.
    /// </summary>
    public int LiveConnections { get; set; }

    /// <summary>Forgets the active stream and hands back its connections for closing.</summary>
    public List<LocalConnection> EndStream()
    {
        var ended = Connections.Values.ToList();
        Connections.Clear();
        ActiveStreamId = 0;
        UsesConnectionIds = false;
        NextConnectionId = 1;
        return ended;
    }
}
