using System.Buffers;
using System.Net.Sockets;

namespace AwsTunnel.Engine.Transport;

/// <summary>
/// The TCP stream under a WebSocket's TLS, read in large pieces. <see cref="System.Net.Security.SslStream"/>
/// reads one TLS record at a time (a zero-byte read, then the record's 16 KiB): two receive
/// calls per 16 KiB, which on a bulk transfer cost more CPU than the decryption. This stream
/// takes everything the kernel has ready, up to <see cref="ReadAheadBytes"/>, in one receive and
/// hands it out from memory. The buffer is rented only while it holds data, so an idle
/// connection holds none: once a receive has left the socket empty, a read finds out whether
/// anything has come since, and if not it waits in the caller's own buffer.
/// <para>
/// Writes, synchronous or not, go straight through, except between <see cref="GatherWrites"/> and
/// <see cref="SendGatheredAsync"/> (see <see cref="GatheredWriteStream"/>): TLS writes each record
/// of a message on its own, and these are sent together.
/// </para>
/// </summary>
internal sealed class ReadAheadStream : LayeredStream
{
    /// <summary>The most one receive takes: several TLS records, a few receives per MiB.</summary>
    public const int ReadAheadBytes = 128 * 1024;

    private readonly Socket? _socket;
    private readonly ArrayPool<byte> _pool;
    private byte[]? _buffer;
    private int _start;
    private int _end;

    // The last receive may have left the socket empty, so the next one may wait.
    private bool _mayBeEmpty = true;

    // Writes gathered since GatherWrites (under _writeGate): TLS may write from a read too.
    private readonly object _writeGate = new();
    private bool _gathering;
    private byte[]? _gathered;
    private int _gatheredLength;

    // A buffer still held at disposal is left to the garbage collector, not returned: a read on
    // another thread may still be copying from it, and a buffer must never go back to the pool twice.
    public ReadAheadStream(Stream inner, ArrayPool<byte>? pool = null)
        : base(inner)
    {
        _socket = (inner as NetworkStream)?.Socket;
        _pool = pool ?? ArrayPool<byte>.Shared;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        if (_end > _start)
        {
            return CopyOut(destination.Span);
        }

        if (destination.Length == 0)
        {
            // Waiting for data holds no buffer.
            return await Inner.ReadAsync(destination, cancellationToken).ConfigureAwait(false);
        }

        if (destination.Length >= ReadAheadBytes || (_mayBeEmpty && !DataWaiting()))
        {
            // A read that will wait does so in the caller's buffer: a rented one would be held for
            // as long as the connection is idle (128 KiB per idle session of a fleet). A zero-byte
            // read before it (TLS makes one) does not tell: .NET may complete one at once on the
            // socket's last readiness with nothing to read, as it did for nearly every idle TLS
            // session of a fleet. A read as large as ours gains nothing from a copy.
            int direct = await Inner.ReadAsync(destination, cancellationToken).ConfigureAwait(false);
            _mayBeEmpty = direct < destination.Length;
            return direct;
        }

        var buffer = _pool.Rent(ReadAheadBytes);
        int read;
        try
        {
            read = await Inner.ReadAsync(buffer.AsMemory(0, ReadAheadBytes), cancellationToken).ConfigureAwait(false);
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

        return Inner.Read(destination);
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
    {
        lock (_writeGate)
        {
            if (_gathering)
            {
                Gather(source.Span);
                return ValueTask.CompletedTask;
            }
        }

        return Inner.WriteAsync(source, cancellationToken);
    }

    public override void Write(ReadOnlySpan<byte> source)
    {
        lock (_writeGate)
        {
            if (_gathering)
            {
                Gather(source);
                return;
            }
        }

        Inner.Write(source);
    }

    /// <summary>
    /// Writes from here on are kept, in order, until <see cref="SendGatheredAsync"/> sends them in
    /// one write. The caller makes one write at a time on the stream above (a WebSocket does).
    /// </summary>
    public void GatherWrites()
    {
        lock (_writeGate)
        {
            _gathering = true;
        }
    }

    /// <summary>Ends <see cref="GatherWrites"/>: sends what was written since, in one write.</summary>
    public async ValueTask SendGatheredAsync(CancellationToken cancellationToken)
    {
        byte[]? gathered;
        int length;
        lock (_writeGate)
        {
            _gathering = false;
            gathered = _gathered;
            length = _gatheredLength;
            _gathered = null;
            _gatheredLength = 0;
        }

        if (gathered is null)
        {
            return;
        }

        try
        {
            await Inner.WriteAsync(gathered.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _pool.Return(gathered);
        }
    }

    private void Gather(ReadOnlySpan<byte> source)
    {
        int needed = _gatheredLength + source.Length;
        if (_gathered is null || needed > _gathered.Length)
        {
            // A 64 KiB message is four records of a little over 16 KiB.
            var larger = _pool.Rent(Math.Max(needed, _gathered is null ? GatherBytes : _gathered.Length * 2));
            if (_gathered is { } old)
            {
                old.AsSpan(0, _gatheredLength).CopyTo(larger);
                _pool.Return(old);
            }

            _gathered = larger;
        }

        source.CopyTo(_gathered.AsSpan(_gatheredLength));
        _gatheredLength = needed;
    }

    /// <summary>The first buffer a gathered write rents: a 64 KiB message in TLS records.</summary>
    private const int GatherBytes = 80 * 1024;

    /// <summary>Whether the socket has received bytes not read yet (one ioctl); true when unknown.</summary>
    private bool DataWaiting()
    {
        try
        {
            return _socket is null || _socket.Available > 0;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return true; // the read itself reports the failure
        }
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
