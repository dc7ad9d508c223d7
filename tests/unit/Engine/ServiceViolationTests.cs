using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Tests.Support;
using Google.Protobuf;

namespace AwsTunnel.Tests.Engine;

/// <summary>
/// The local service cuts a proxy that breaks the protocol at once: nothing it sent after the
/// violation is forwarded, its WebSocket is closed with 1002, and the violation is logged once.
/// </summary>
public class ServiceViolationTests
{
    [Theory]
    [InlineData("session-reset")]
    [InlineData("zero-bytes")]
    public async Task A_violating_source_is_cut_at_once_and_nothing_after_the_violation_is_forwarded(string violation)
    {
        using var target = new TcpListener(IPAddress.Loopback, 0);
        target.Start();
        long received = 0;
        int accepted = 0;
        _ = Task.Run(async () =>
        {
            while (true)
            {
                Socket socket;
                try
                {
                    socket = await target.AcceptSocketAsync();
                }
                catch (Exception)
                {
                    return;
                }

                Interlocked.Increment(ref accepted);
                _ = Task.Run(async () =>
                {
                    using (socket)
                    {
                        var buffer = new byte[64 * 1024];
                        int read;
                        try
                        {
                            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None)) > 0)
                            {
                                Interlocked.Add(ref received, read);
                            }
                        }
                        catch (SocketException)
                        {
                        }
                    }
                });
            }
        });
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        await harness.StartDestinationAsync($"SSH1=127.0.0.1:{((IPEndPoint)target.LocalEndpoint).Port}");

        using var source = new ClientWebSocket();
        source.Options.AddSubProtocol(Subprotocols.V3);
        source.Options.SetRequestHeader("access-token", harness.Tunnel.SourceAccessToken);
        await source.ConnectAsync(new Uri(harness.Service.Endpoint, "/tunnel?local-proxy-mode=source"), CancellationToken.None);
        await source.SendAsync(FrameEncoder.ToArray(Messages.StreamStart(1, "SSH1", 1)), WebSocketMessageType.Binary, true, CancellationToken.None);
        await Eventually.TrueAsync(() => Volatile.Read(ref accepted) == 1, "the destination to connect to the target");

        var writer = new ArrayBufferWriter<byte>();
        if (violation == "session-reset")
        {
            FrameEncoder.Write(writer, Messages.SessionReset());
        }
        else
        {
            writer.Write(new byte[1024 * 1024]); // 524,288 empty frames, each a message of no known type
        }

        for (int i = 0; i < 100; i++)
        {
            FrameEncoder.Write(writer, Messages.Data(1, "SSH1", 1, ByteString.CopyFrom(new byte[100])));
        }

        // The service stops reading at the violation, so the rest of this large message may meet a
        // connection it has already closed (broken pipe): that is being cut at once too.
        var sendFailure = await Record.ExceptionAsync(() => source.SendAsync(writer.WrittenMemory, WebSocketMessageType.Binary, true, CancellationToken.None).AsTask());
        if (sendFailure is null)
        {
            var buffer = new byte[64 * 1024];
            using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            WebSocketReceiveResult result;
            do
            {
                result = await source.ReceiveAsync(buffer, guard.Token);
            }
            while (result.MessageType != WebSocketMessageType.Close);

            Assert.Equal(WebSocketCloseStatus.ProtocolError, source.CloseStatus);
        }
        else
        {
            Assert.IsType<WebSocketException>(sendFailure);
        }

        await Task.Delay(500); // anything forwarded would reach the target within this
        Assert.Equal(0, Interlocked.Read(ref received));
        await harness.Logs.WaitForLineAsync(l => l.Contains("source broke the protocol"), "the violation to be logged", 30000);
        Assert.Single(harness.Logs.Lines, l => l.Contains("source broke the protocol"));
        target.Stop();
    }
}
