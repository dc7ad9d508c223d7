using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Threading.Channels;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Transport;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;

namespace AwsTunnel.Tests.Engine;

/// <summary>
/// Messages a link will never send still give back their pooled buffers and run their callbacks,
/// so the senders' in-flight budgets survive a lost link.
/// </summary>
public class TunnelLinkQueueTests
{
    [Fact]
    public async Task Disposing_a_link_runs_the_callback_of_every_queued_message()
    {
        var (client, server) = await WebSocketPairAsync();
        using var _ = server;
        var link = new TunnelLink(client, NullLogger.Instance);
        int written = 0;
        for (int i = 0; i < 16; i++)
        {
            await SendPooledAsync(link, () => Interlocked.Increment(ref written));
        }

        Assert.Equal(0, written);
        await link.DisposeAsync();

        Assert.Equal(16, written);
    }

    [Fact]
    public async Task A_message_queued_after_the_link_stopped_is_refused_and_its_callback_runs()
    {
        var (client, server) = await WebSocketPairAsync();
        using var _ = server;
        var link = new TunnelLink(client, NullLogger.Instance);
        link.Abort();
        int written = 0;

        await Assert.ThrowsAsync<ChannelClosedException>(() => SendPooledAsync(link, () => Interlocked.Increment(ref written)).AsTask());

        Assert.Equal(1, written);
        await link.DisposeAsync();
        Assert.Equal(1, written);
    }

    [Fact]
    public async Task Stopping_with_discard_drops_the_queue_and_runs_the_callbacks()
    {
        var (client, server) = await WebSocketPairAsync();
        using var _ = server;
        var link = new TunnelLink(client, NullLogger.Instance);
        int written = 0;
        for (int i = 0; i < 4; i++)
        {
            await SendPooledAsync(link, () => Interlocked.Increment(ref written));
        }

        await link.StopAsync(TimeSpan.FromMilliseconds(200), discardQueued: true);

        Assert.Equal(4, written);
        await link.DisposeAsync();
    }

    [Fact]
    public async Task Stopping_a_running_link_with_discard_runs_every_callback_exactly_once()
    {
        var (client, server) = await WebSocketPairAsync();
        using var _ = server; // never reads: the send loop blocks once the socket buffers are full
        var link = new TunnelLink(client, NullLogger.Instance);
        var run = link.RunAsync((_, _, _) => ValueTask.CompletedTask, CancellationToken.None);
        int written = 0;
        const int Messages = 64;
        var sends = new List<Task>();
        for (int i = 0; i < Messages; i++)
        {
            sends.Add(SendPooledAsync(link, () => Interlocked.Increment(ref written), 60 * 1024).AsTask());
        }

        await Task.Delay(200);
        await link.StopAsync(TimeSpan.FromMilliseconds(500), discardQueued: true);
        link.Abort();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
        await Task.WhenAll(sends.Select(t => t.ContinueWith(_ => { })));
        await link.DisposeAsync();

        Assert.Equal(Messages, written);
    }

    private static ValueTask SendPooledAsync(TunnelLink link, Action written, int size = 1024)
    {
        byte[] rented = ArrayPool<byte>.Shared.Rent(size);
        var message = Messages.Data(1, "SSH1", 1, UnsafeByteOperations.UnsafeWrap(rented.AsMemory(0, size)));
        return link.SendPooledAsync(message, rented, written, CancellationToken.None);
    }

    private static async Task<(WebSocket Client, WebSocket Server)> WebSocketPairAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var connecting = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var accepting = listener.AcceptAsync();
        await connecting.ConnectAsync(listener.LocalEndPoint!);
        var accepted = await accepting;
        var client = WebSocket.CreateFromStream(new NetworkStream(connecting, ownsSocket: true), isServer: false, subProtocol: null, keepAliveInterval: Timeout.InfiniteTimeSpan);
        var server = WebSocket.CreateFromStream(new NetworkStream(accepted, ownsSocket: true), isServer: true, subProtocol: null, keepAliveInterval: Timeout.InfiniteTimeSpan);
        return (client, server);
    }
}
