using System.Net;
using System.Net.Sockets;

namespace AwsTunnel.Tests.Support;

/// <summary>Ports for tests that need one to be closed now and opened later.</summary>
public static class TestPorts
{
    /// <summary>
    /// A free port below Linux's ephemeral range (32768+), so outgoing connections of other
    /// tests cannot take it in the meantime.
    /// </summary>
    public static int FreeOutsideEphemeralRange()
    {
        var random = new Random();
        for (int attempt = 0; attempt < 200; attempt++)
        {
            int port = random.Next(20000, 32000);
            try
            {
                using var probe = new TcpListener(IPAddress.Loopback, port);
                probe.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken; try another.
            }
        }

        throw new InvalidOperationException("No free port found between 20000 and 32000.");
    }
}
