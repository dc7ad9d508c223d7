namespace AwsTunnel.Engine.Transport;

/// <summary>
/// A WebSocket's stream over TLS, whose every write leaves in one socket send. SslStream writes
/// each TLS record (16 KiB of data) to the stream under it as soon as it is encrypted: a 64 KiB
/// WebSocket message took four sends, and woke the reader at the other end up to four times.
/// Here the records of one write are gathered in the <see cref="ReadAheadStream"/> under the TLS
/// (one copy) and sent together when the write ends. Reads go straight through.
/// </summary>
internal sealed class GatheredWriteStream : Stream
{
    private readonly Stream _inner;
    private readonly ReadAheadStream _transport;

    /// <param name="inner">The stream the WebSocket would use: TLS, or an HTTP connection's stream over it.</param>
    /// <param name="transport">The TCP stream under that TLS.</param>
    public GatheredWriteStream(Stream inner, ReadAheadStream transport)
    {
        _inner = inner;
        _transport = transport;
    }

    public override bool CanRead => _inner.CanRead;
    public override bool CanWrite => _inner.CanWrite;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        _inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        _inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override int Read(Span<byte> buffer) => _inner.Read(buffer);

    public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
    {
        _transport.GatherWrites();
        try
        {
            await _inner.WriteAsync(source, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Also after a failed write: what was gathered goes out, as it would have unbuffered.
            await _transport.SendGatheredAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(ReadOnlySpan<byte> buffer) => _inner.Write(buffer);

    public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);

    public override void Flush() => _inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await _inner.DisposeAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }
}
