using System.Buffers;

namespace AwsTunnel.Engine.Transport;

/// <summary>
/// The TCP stream under a WebSocket's TLS, read in large pieces. <see cref="System.Net.Security.SslStream"/>
/// reads one TLS record at a time (a zero-byte read, then the record's 16 KiB): two receive
/// calls per 16 KiB, which on a bulk transfer cost more CPU than the decryption. This stream
/// takes everything the kernel has ready, up to <see cref="ReadAheadBytes"/>, in one receive and
/// hands it out from memory. The buffer is rented only while it holds data, so an idle
/// connection holds none: with nothing buffered, a read waits for data with a zero-byte read on
/// the inner stream first, unless the last receive filled the whole buffer.
/// Writes go straight through.
/// </summary>
internal sealed class ReadAheadStream : Stream
{
    /// <summary>The most one receive takes: several TLS records, a few receives per MiB.</summary>
    public const int ReadAheadBytes = 128 * 1024;

    private readonly Stream _inner;
    private readonly ArrayPool<byte> _pool;
    private byte[]? _buffer;
    private int _start;
    private int _end;

    // The last receive may have emptied the socket: wait for data without a buffer before renting
    // one. Not after a zero-byte read (TLS makes one before each record), which just did that wait.
    private bool _mayBeEmpty = true;

    public ReadAheadStream(Stream inner, ArrayPool<byte>? pool = null)
    {
        _inner = inner;
        _pool = pool ?? ArrayPool<byte>.Shared;
    }

    public override bool CanRead => true;
    public override bool CanWrite => _inner.CanWrite;
    public override bool CanSeek => false;
    public override bool CanTimeout => _inner.CanTimeout;
    public override int ReadTimeout { get => _inner.ReadTimeout; set => _inner.ReadTimeout = value; }
    public override int WriteTimeout { get => _inner.WriteTimeout; set => _inner.WriteTimeout = value; }
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        if (_end > _start)
        {
            return CopyOut(destination.Span);
        }

        if (destination.Length == 0)
        {
            // Waiting for data holds no buffer.
            int none = await _inner.ReadAsync(destination, cancellationToken).ConfigureAwait(false);
            _mayBeEmpty = false;
            return none;
        }

        if (destination.Length >= ReadAheadBytes)
        {
            // A read as large as ours gains nothing from a copy.
            int direct = await _inner.ReadAsync(destination, cancellationToken).ConfigureAwait(false);
            _mayBeEmpty = direct < destination.Length;
            return direct;
        }

        if (_mayBeEmpty)
        {
            // A reader that does not wait with a zero-byte read itself (an HTTP connection's
            // buffered read, on ws) would otherwise hold a rented buffer for as long as the
            // connection is idle: 128 KiB per idle session of a fleet.
            await _inner.ReadAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        }

        var buffer = _pool.Rent(ReadAheadBytes);
        int read;
        try
        {
            read = await _inner.ReadAsync(buffer.AsMemory(0, ReadAheadBytes), cancellationToken).ConfigureAwait(false);
            _mayBeEmpty = read < ReadAheadBytes;
        }
        catch
        {
            _pool.Return(buffer);
            throw;
        }

        if (read == 0)
        {
            _pool.Return(buffer);
            return 0;
        }

        _buffer = buffer;
        _start = 0;
        _end = read;
        return CopyOut(destination.Span);
    }

    public override int Read(Span<byte> destination)
    {
        if (_end > _start)
        {
            return CopyOut(destination);
        }

        return _inner.Read(destination);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default) =>
        _inner.WriteAsync(source, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        _inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override void Write(ReadOnlySpan<byte> source) => _inner.Write(source);

    public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);

    public override void Flush() => _inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    // A buffer still held is left to the garbage collector, not returned: a read on another
    // thread may still be copying from it, and a buffer must never go back to the pool twice.
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

    private int CopyOut(Span<byte> destination)
    {
        int count = Math.Min(destination.Length, _end - _start);
        _buffer.AsSpan(_start, count).CopyTo(destination);
        _start += count;
        if (_start == _end)
        {
            ReleaseBuffer();
        }

        return count;
    }

    private void ReleaseBuffer()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            _start = _end = 0;
            _pool.Return(buffer);
        }
    }
}
