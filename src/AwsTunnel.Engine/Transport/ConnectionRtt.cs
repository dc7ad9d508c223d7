using System.Buffers.Binary;
using System.Net.Sockets;

namespace AwsTunnel.Engine.Transport;

/// <summary>
/// Reads the kernel's smoothed round-trip time of the TCP connection that carries the
/// WebSocket (Linux <c>TCP_INFO</c>). The BCL's WebSocket answers and sends pings but does
/// not expose their round trip, so the transport's own measurement is used: it covers the
/// network path to the service (or to the web proxy, when one is used).
/// </summary>
public static class ConnectionRtt
{
    private const int IpProtoTcp = 6;
    private const int TcpInfo = 11;
    private const int RttOffset = 68; // struct tcp_info: __u32 tcpi_rtt, microseconds

    /// <summary>The current smoothed RTT, or null where the platform does not report it.</summary>
    public static TimeSpan? TryRead(Socket? socket)
    {
        if (socket is null || !OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            Span<byte> info = stackalloc byte[256];
            int length = socket.GetRawSocketOption(IpProtoTcp, TcpInfo, info);
            if (length < RttOffset + 4)
            {
                return null;
            }

            uint micros = BinaryPrimitives.ReadUInt32LittleEndian(info.Slice(RttOffset, 4));
            return micros == 0 ? null : TimeSpan.FromTicks(micros * 10L);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or PlatformNotSupportedException)
        {
            return null;
        }
    }
}
