using System.Net.Sockets;
using AwsTunnel.Engine.Transport;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Engine;

/// <summary>
/// The stream under a WebSocket's TLS takes what the socket has in one read and hands it out in
/// the pieces TLS asks for: the same bytes in the same order, and no buffer held while idle.
/// </summary>
public class ReadAheadStreamTests
{
    [Fact]
    public async Task Small_reads_get_the_same_bytes_in_order_from_fewer_inner_reads()
    {
        var data = new byte[1 << 20];
        new Random(12).NextBytes(data);
        var inner = new ChunkedStream(data, chunk: 200_000);
        var pool = new CountingPool();
        using var stream = new ReadAheadStream(inner, pool);

        var copy = new MemoryStream();
        var random = new Random(34);
        var buffer = new byte[20_000];
        int n;
        while ((n = await stream.ReadAsync(buffer.AsMemory(0, random.Next(1, buffer.Length)))) > 0)
        {
            copy.Write(buffer, 0, n);
        }

        Assert.Equal(data, copy.ToArray());
        // One inner read per read-ahead buffer (the chunk is larger), plus the one that saw the end.
        Assert.Equal((data.Length + ReadAheadStream.ReadAheadBytes - 1) / ReadAheadStream.ReadAheadBytes + 1, inner.Reads);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task Waiting_for_data_with_a_zero_byte_read_holds_no_buffer()
    {
        var inner = new ChunkedStream(new byte[100], chunk: 100);
        var pool = new CountingPool();
        using var stream = new ReadAheadStream(inner, pool);

        Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty));
        Assert.Equal(1, inner.ZeroByteReads);
        Assert.Equal(0, pool.Rented);

        var buffer = new byte[60];
        Assert.Equal(60, await stream.ReadAsync(buffer));
        Assert.Equal(1, pool.Outstanding);
        // Data is buffered: a zero-byte read says so without asking the inner stream.
        Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty));
        Assert.Equal(1, inner.ZeroByteReads);
        Assert.Equal(40, await stream.ReadAsync(buffer));
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task A_small_read_that_has_to_wait_holds_no_buffer_until_data_arrives()
    {
        // An HTTP connection reads with its own small buffer (ws, no TLS above): an idle session
        // must not hold a read-ahead buffer through that wait.
        var (accepted, connected) = await LoopbackPairs.SocketPairAsync();
        using var peer = accepted;
        var pool = new CountingPool();
        using var stream = new ReadAheadStream(new NetworkStream(connected, ownsSocket: true), pool);

        var buffer = new byte[4096];
        var pending = stream.ReadAsync(buffer).AsTask();
        await Task.Delay(200);
        Assert.False(pending.IsCompleted);
        Assert.Equal(0, pool.Rented);

        await peer.SendAsync(new byte[] { 1, 2, 3 }, SocketFlags.None);
        Assert.Equal(3, await pending.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(new byte[] { 1, 2, 3 }, buffer[..3]);
        Assert.Equal(0, pool.Outstanding);

        // The socket was left empty: the next small read waits without a buffer again.
        pending = stream.ReadAsync(buffer).AsTask();
        await Task.Delay(200);
        Assert.False(pending.IsCompleted);
        Assert.Equal(0, pool.Rented);
        await peer.SendAsync(new byte[] { 4 }, SocketFlags.None);
        Assert.Equal(1, await pending.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, pool.Outstanding);

        // Data already waiting is read ahead: one receive takes all of it, small reads share it.
        await peer.SendAsync(new byte[10_000], SocketFlags.None);
        await Eventually.TrueAsync(() => connected.Available == 10_000, "the bytes to arrive");
        Assert.Equal(100, await stream.ReadAsync(buffer.AsMemory(0, 100)));
        Assert.Equal(1, pool.Rented);
        Assert.Equal(1, pool.Outstanding);
        Assert.Equal(4096, await stream.ReadAsync(buffer));
        Assert.Equal(4096, await stream.ReadAsync(buffer));
        Assert.Equal(10_000 - 100 - 8192, await stream.ReadAsync(buffer));
        Assert.Equal(1, pool.Rented);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task A_read_as_large_as_the_read_ahead_goes_straight_to_the_inner_stream()
    {
        var inner = new ChunkedStream(new byte[ReadAheadStream.ReadAheadBytes], chunk: ReadAheadStream.ReadAheadBytes);
        var pool = new CountingPool();
        using var stream = new ReadAheadStream(inner, pool);

        Assert.Equal(ReadAheadStream.ReadAheadBytes, await stream.ReadAsync(new byte[ReadAheadStream.ReadAheadBytes]));
        Assert.Equal(0, pool.Rented);
    }

    [Fact]
    public async Task Writes_go_straight_through()
    {
        var inner = new ChunkedStream(Array.Empty<byte>(), chunk: 1);
        using var stream = new ReadAheadStream(inner, new CountingPool());

        await stream.WriteAsync(new byte[] { 1, 2, 3 });
        stream.Write(new byte[] { 4 });

        Assert.Equal(new byte[] { 1, 2, 3, 4 }, inner.Written.ToArray());
    }

    /// <summary>Gives at most <c>chunk</c> bytes per read (a socket's receive queue); counts reads; keeps what is written.</summary>
    private sealed class ChunkedStream(byte[] data, int chunk) : UnseekableStream
    {
        private int _position;

        public int Reads { get; private set; }
        public int ZeroByteReads { get; private set; }
        public MemoryStream Written { get; } = new();

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (buffer.Length == 0)
            {
                ZeroByteReads++;
                return ValueTask.FromResult(0);
            }

            Reads++;
            int n = Math.Min(Math.Min(buffer.Length, chunk), data.Length - _position);
            data.AsSpan(_position, n).CopyTo(buffer.Span);
            _position += n;
            return ValueTask.FromResult(n);
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().Result;
        public override void Write(byte[] buffer, int offset, int count) => Written.Write(buffer, offset, count);
    }
}
