using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using AwsTunnel.Engine.Service;
using AwsTunnel.Engine.Transport;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Engine;

/// <summary>
/// A WebSocket message over TLS leaves in one socket send: TLS writes each record on its own,
/// the stream under it gathers them, in order, and sends them together when the message's write
/// ends. Nothing written is lost or reordered, and the gathering buffer goes back to the pool.
/// </summary>
public class GatheredWriteTests
{
    private const int Record = 16_406; // a full TLS 1.3 record of 16 KiB of data, as it goes on the wire

    [Fact]
    public async Task Writes_between_gather_and_send_leave_in_one_inner_write_in_order()
    {
        var inner = new WriteCountingStream();
        var pool = new CountingPool();
        using var stream = new ReadAheadStream(inner, pool);
        var pieces = Enumerable.Range(1, 6).Select(i => Pattern(Record, seed: i)).ToArray(); // more than the first buffer holds

        stream.GatherWrites();
        foreach (var piece in pieces)
        {
            await stream.WriteAsync(piece);
        }

        Assert.Equal(0, inner.Writes);
        await stream.SendGatheredAsync(CancellationToken.None);

        Assert.Equal(1, inner.Writes);
        Assert.Equal(pieces.SelectMany(p => p).ToArray(), inner.Written.ToArray());
        Assert.Equal(0, pool.Outstanding);

        // After the send, writes go straight through again.
        await stream.WriteAsync(new byte[] { 7 });
        Assert.Equal(2, inner.Writes);
    }

    [Fact]
    public async Task Synchronous_writes_while_gathering_are_gathered_in_order_too()
    {
        var inner = new WriteCountingStream();
        var pool = new CountingPool();
        using var stream = new ReadAheadStream(inner, pool);
        byte[] first = Pattern(Record, seed: 1), second = Pattern(Record, seed: 2), third = Pattern(100, seed: 3);

        stream.GatherWrites();
        await stream.WriteAsync(first);
        stream.Write(second);                       // the span overload
        stream.Write(third, 0, third.Length);       // the array overload

        Assert.Equal(0, inner.Writes);
        await stream.SendGatheredAsync(CancellationToken.None);

        Assert.Equal(1, inner.Writes);
        Assert.Equal(first.Concat(second).Concat(third).ToArray(), inner.Written.ToArray());
        Assert.Equal(0, pool.Outstanding);

        // After the send, synchronous writes go straight through again.
        stream.Write(new byte[] { 7 });
        Assert.Equal(2, inner.Writes);
    }

    [Fact]
    public async Task A_gathered_write_that_wrote_nothing_sends_nothing()
    {
        var inner = new WriteCountingStream();
        var pool = new CountingPool();
        using var stream = new ReadAheadStream(inner, pool);

        stream.GatherWrites();
        await stream.SendGatheredAsync(CancellationToken.None);

        Assert.Equal(0, inner.Writes);
        Assert.Equal(0, pool.Rented);
    }

    [Fact]
    public async Task Each_write_through_the_gathering_stream_is_one_inner_write_and_reads_pass_through()
    {
        var inner = new WriteCountingStream(readable: new byte[] { 1, 2, 3 });
        using var transport = new ReadAheadStream(inner, new CountingPool());
        using var stream = new GatheredWriteStream(new RecordSplittingStream(transport), transport);
        var message = Pattern(65_000, seed: 3);

        await stream.WriteAsync(message);
        await stream.WriteAsync(new byte[] { 9 });

        Assert.Equal(2, inner.Writes);
        Assert.Equal(message.Append((byte)9).ToArray(), inner.Written.ToArray());
        var read = new byte[3];
        Assert.Equal(3, await stream.ReadAsync(read));
        Assert.Equal(new byte[] { 1, 2, 3 }, read);
    }

    [Fact]
    public async Task A_message_over_real_tls_leaves_in_one_send_and_arrives_whole()
    {
        using var certificate = SelfSignedCertificate.Create();
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!);
        using var accepted = await listener.AcceptAsync();

        var counted = new WriteCountingStream(new NetworkStream(client, ownsSocket: true));
        var transport = new ReadAheadStream(counted);
        using var clientTls = new SslStream(transport, leaveInnerStreamOpen: false, (_, _, _, _) => true);
        using var serverTls = new SslStream(new NetworkStream(accepted), leaveInnerStreamOpen: false);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)); // hang guard only
        await Task.WhenAll(
            clientTls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }, timeout.Token),
            serverTls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate }, timeout.Token));
        using var stream = new GatheredWriteStream(clientTls, transport);
        var message = Pattern(64 * 1024, seed: 5);

        int before = counted.Writes;
        await stream.WriteAsync(message, timeout.Token);

        Assert.Equal(before + 1, counted.Writes);
        var received = new byte[message.Length];
        await serverTls.ReadExactlyAsync(received, timeout.Token);
        Assert.Equal(message, received);
    }

    [Fact]
    public async Task The_client_websocket_gets_the_upgraded_tls_connection_through_the_gathering_stream()
    {
        var transport = new ReadAheadStream(new WriteCountingStream());
        var connection = new WriteCountingStream();
        using var invoker = new HttpMessageInvoker(new GatheredUpgradeHandler(new UpgradingHandler(connection), () => transport));

        using var upgraded = await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, "https://localhost/tunnel"), CancellationToken.None);
        using var plain = await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, "http://localhost/tunnel"), CancellationToken.None);

        var stream = upgraded.Content.ReadAsStream();
        Assert.IsType<GatheredWriteStream>(stream);
        await stream.WriteAsync(new byte[] { 4, 5 });
        Assert.Equal(new byte[] { 4, 5 }, connection.Written.ToArray());
        // Without TLS a message is one write already: that connection is left as it is.
        Assert.Same(connection, plain.Content.ReadAsStream());
    }

    private static byte[] Pattern(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>As SslStream writes: a write becomes one inner write per 16 KiB piece.</summary>
    private sealed class RecordSplittingStream(Stream inner) : WriteCountingStream
    {
        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            for (int at = 0; at < buffer.Length; at += 16 * 1024)
            {
                await inner.WriteAsync(buffer.Slice(at, Math.Min(16 * 1024, buffer.Length - at)), cancellationToken);
            }
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            inner.ReadAsync(buffer, cancellationToken);
    }

    /// <summary>Answers every request with 101 and the given connection as its content (a stand-in for SocketsHttpHandler).</summary>
    private sealed class UpgradingHandler(Stream connection) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.SwitchingProtocols) { Content = new ConnectionContent(connection) });

        private sealed class ConnectionContent(Stream connection) : HttpContent
        {
            protected override Stream CreateContentReadStream(CancellationToken cancellationToken) => connection;
            protected override Task<Stream> CreateContentReadStreamAsync() => Task.FromResult(connection);
            protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => throw new NotSupportedException();
            protected override bool TryComputeLength(out long length)
            {
                length = 0;
                return false;
            }
        }
    }

    /// <summary>Counts writes and keeps what is written; reads come from <c>readable</c>, or from <c>over</c> when it wraps a stream.</summary>
    private class WriteCountingStream : UnseekableStream
    {
        private readonly Stream? _over;
        private readonly MemoryStream _readable;

        public WriteCountingStream(Stream? over = null, byte[]? readable = null)
        {
            _over = over;
            _readable = new MemoryStream(readable ?? Array.Empty<byte>());
        }

        public int Writes { get; private set; }
        public MemoryStream Written { get; } = new();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Writes++;
            Written.Write(buffer.Span);
            if (_over is not null)
            {
                await _over.WriteAsync(buffer, cancellationToken);
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            _over is not null ? _over.ReadAsync(buffer, cancellationToken) : ValueTask.FromResult(_readable.Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _over?.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
