using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace AwsTunnel.Engine.Tunnel;

/// <summary>
/// What the kernel still holds of the bytes written to a TCP socket: sent and not yet
/// acknowledged by the other end, or not sent at all. A close with RST (linger 0) discards
/// both, so a connection that must end with RST after all its data waits until this is empty:
/// acknowledged bytes are in the client's receive buffer, which a reset does not take away
/// (Linux reads them before it reports the reset).
/// <para>
/// Read from Linux's <c>TCP_INFO</c> (<c>tcpi_unacked</c>, <c>tcpi_notsent_bytes</c> since
/// kernel 4.6, <c>tcpi_bytes_acked</c> since 4.1). Other systems report nothing.
/// </para>
/// </summary>
internal readonly record struct TcpSendQueue(bool Empty, long BytesAcknowledged)
{
    private const int IpProtoTcp = 6;
    private const int TcpInfoOption = 11;
    private const int UnackedOffset = 24;
    private const int BytesAckedOffset = 120;
    private const int NotSentBytesOffset = 144;
    private const int NeededLength = NotSentBytesOffset + 4;

    /// <summary>Reads the socket's send queue; false where the system cannot tell (not Linux, an old kernel, a closed socket).</summary>
    public static bool TryRead(Socket socket, out TcpSendQueue queue)
    {
        queue = default;
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        Span<byte> info = stackalloc byte[256];
        int length;
        try
        {
            length = socket.GetRawSocketOption(IpProtoTcp, TcpInfoOption, info);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or PlatformNotSupportedException)
        {
            return false;
        }

        if (length < NeededLength)
        {
            return false;
        }

        // TCP_INFO is in the host's byte order.
        uint unackedSegments = MemoryMarshal.Read<uint>(info[UnackedOffset..]);
        uint notSent = MemoryMarshal.Read<uint>(info[NotSentBytesOffset..]);
        long acked = (long)MemoryMarshal.Read<ulong>(info[BytesAckedOffset..]);
        queue = new TcpSendQueue(unackedSegments == 0 && notSent == 0, acked);
        return true;
    }
}
