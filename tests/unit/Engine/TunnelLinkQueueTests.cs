using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Threading.Channels;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Transport;
using AwsTunnel.Tests.Support;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;

namespace AwsTunnel.Tests.Engine;

/// <summary>
/// Frames a link will never send still give back their pooled buffers, exactly once (the
/// counting pool throws on a double return), however the link ends.
/// </summary>
public class TunnelLinkQueueTests
{
    [Fact]
    public async Task Disposing_a_link_returns_the_buffer_of_every_queued_frame()
    {
        var (client, server) = await LoopbackPairs.WebSocketPairAsync();
        using var _ = server;
        var pool = new CountingPool();
        var link = new TunnelLink(client, NullLogger.Instance, pool: pool);
        for (int i = 0; i < 16; i++)
        {
            await link.SendAsync(DataFrame(pool), CancellationToken.None);
        }

        Assert.Equal(16, pool.Outstanding);
        await link.DisposeAsync();

        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task A_frame_queued_after_the_link_stopped_is_refused_and_its_buffer_returned()
    {
        var (client, server) = await LoopbackPairs.WebSocketPairAsync();
        using var _ = server;
        var pool = new CountingPool();
        var link = new TunnelLink(client, NullLogger.Instance, pool: pool);
        link.Abort();

        await Assert.ThrowsAsync<ChannelClosedException>(() => link.SendAsync(DataFrame(pool), CancellationToken.None).AsTask());
        Assert.False(link.TryPost(Messages.StreamReset(1, "SSH1")));

        Assert.Equal(0, pool.Outstanding);
        await link.DisposeAsync();
    }

    [Fact]
    public async Task Stopping_with_discard_drops_the_queue_and_returns_the_buffers()
    {
        var (client, server) = await LoopbackPairs.WebSocketPairAsync();
        using var _ = server;
        var pool = new CountingPool();
        var link = new TunnelLink(client, NullLogger.Instance, pool: pool);
        for (int i = 0; i < 4; i++)
        {
            await link.SendAsync(DataFrame(pool), CancellationToken.None);
        }

        await link.StopAsync(TimeSpan.FromMilliseconds(200), discardQueued: true);

        Assert.Equal(0, pool.Outstanding);
        await link.DisposeAsync();
    }

    [Fact]
    public async Task Stopping_a_running_link_with_discard_returns_every_buffer_exactly_once()
    {
        var (client, server) = await LoopbackPairs.WebSocketPairAsync();
        using var _ = server; // never reads: the send loop blocks once the socket buffers are full
        var pool = new CountingPool();
        var link = new TunnelLink(client, NullLogger.Instance, pool: pool);
        var run = link.RunAsync((_, payload, _) => { payload?.Dispose(); return ValueTask.CompletedTask; }, CancellationToken.None);
        const int Frames = 64;
        var sends = new List<Task>();
        for (int i = 0; i < Frames; i++)
        {
            sends.Add(link.SendAsync(DataFrame(pool, 60 * 1024), CancellationToken.None).AsTask());
        }

        await Task.Delay(200);
        await link.StopAsync(TimeSpan.FromMilliseconds(500), discardQueued: true);
        link.Abort();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
        await Task.WhenAll(sends.Select(t => t.ContinueWith(_ => { })));
        await link.DisposeAsync();

        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task A_stream_start_ends_its_websocket_message_and_frames_after_it_go_in_the_next()
    {
        var (client, server) = await LoopbackPairs.WebSocketPairAsync();
        using var _ = server;
        var pool = new CountingPool();
        var link = new TunnelLink(client, NullLogger.Instance, pool: pool);

        // Queued before the send loop runs, so the loop finds all of them at once and could pack them together.
        Assert.True(link.TryPost(Messages.StreamStart(1, "SSH1", 1)));
        await link.SendAsync(DataFrame(pool, 100), CancellationToken.None);
        Assert.True(link.TryPost(Messages.ConnectionStart(1, "SSH1", 2)));
        await link.SendAsync(DataFrame(pool, 100), CancellationToken.None);
        await link.SendAsync(DataFrame(pool, 100), CancellationToken.None);
        var run = link.RunAsync((_, payload, _) => { payload?.Dispose(); return ValueTask.CompletedTask; }, CancellationToken.None);

        var messages = new List<List<Message.Types.Type>>();
        while (messages.Sum(m => m.Count) < 5)
        {
            messages.Add(await ReceiveMessageAsync(server));
        }

        Assert.Equal(new[] { Message.Types.Type.StreamStart }, messages[0]);
        Assert.Equal(new[] { Message.Types.Type.Data, Message.Types.Type.ConnectionStart }, messages[1]);
        Assert.Equal(new[] { Message.Types.Type.Data, Message.Types.Type.Data }, messages[2]);

        link.Abort();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
        await link.DisposeAsync();
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task A_stream_reset_ends_its_websocket_message_so_the_next_streams_start_and_data_do_not_wait_behind_it()
    {
        var (client, server) = await LoopbackPairs.WebSocketPairAsync();
        using var _ = server;
        var pool = new CountingPool();
        var link = new TunnelLink(client, NullLogger.Instance, pool: pool);

        Assert.True(link.TryPost(Messages.StreamReset(1, "SSH1")));
        Assert.True(link.TryPost(Messages.StreamStart(2, "SSH1", 0)));
        await link.SendAsync(DataFrame(pool, 100), CancellationToken.None);
        var run = link.RunAsync((_, payload, _) => { payload?.Dispose(); return ValueTask.CompletedTask; }, CancellationToken.None);

        var messages = new List<List<Message.Types.Type>>();
        while (messages.Sum(m => m.Count) < 3)
        {
            messages.Add(await ReceiveMessageAsync(server));
        }

        Assert.Equal(new[] { Message.Types.Type.StreamReset }, messages[0]);
        Assert.Equal(new[] { Message.Types.Type.StreamStart }, messages[1]);
        Assert.Equal(new[] { Message.Types.Type.Data }, messages[2]);

        link.Abort();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
        await link.DisposeAsync();
        Assert.Equal(0, pool.Outstanding);
    }

    /// <summary>Reads one whole WebSocket message and returns the types of the frames in it.</summary>
    internal static async Task<List<Message.Types.Type>> ReceiveMessageAsync(WebSocket socket)
    {
        var bytes = new List<byte>();
        var buffer = new byte[64 * 1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer, timeout.Token);
            bytes.AddRange(buffer.Take(result.Count));
        }
        while (!result.EndOfMessage);

        var sequence = new System.Buffers.ReadOnlySequence<byte>(bytes.ToArray());
        var types = new List<Message.Types.Type>();
        while (FrameDecoder.TryReadFrame(ref sequence, out var message))
        {
            types.Add(message.Type);
        }

        Assert.Equal(0, sequence.Length);
        return types;
    }

    private static OutgoingFrame DataFrame(CountingPool pool, int size = 1024)
    {
        var payload = PooledPayload.Rent(pool, size);
        return new OutgoingFrame(Messages.Data(1, "SSH1", 1, UnsafeByteOperations.UnsafeWrap(payload.Memory)), payload);
    }
}
