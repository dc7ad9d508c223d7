using System.Net.Sockets;

namespace AwsTunnel.Tests.Support;

/// <summary>Small client-side helpers for talking through a source port.</summary>
public static class TcpProbe
{
    /// <summary>Sends a line and reads back as many bytes (for an echo target).</summary>
    public static async Task<string> EchoAsync(Socket socket, string text)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        await socket.SendAsync(bytes, SocketFlags.None);
        var buffer = new byte[bytes.Length];
        int filled = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (filled < buffer.Length)
        {
            int read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, timeout.Token);
            if (read == 0)
            {
                throw new IOException($"The connection closed after {filled} of {buffer.Length} echoed bytes.");
            }

            filled += read;
        }

        return System.Text.Encoding.UTF8.GetString(buffer);
    }

    public static async Task<Socket> ConnectAsync(int port)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", port);
        return socket;
    }

    /// <summary>True when the peer closes the connection (EOF or reset) within the timeout.</summary>
    public static async Task<bool> ClosesWithinAsync(Socket socket, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[1024];
        try
        {
            while (true)
            {
                int read = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
                if (read == 0)
                {
                    return true;
                }
            }
        }
        catch (SocketException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
