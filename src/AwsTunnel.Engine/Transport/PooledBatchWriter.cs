using System.Buffers;

namespace AwsTunnel.Engine.Transport;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> over a buffer rented from the shared pool for one
/// WebSocket message at a time, so an idle link holds no batch buffer.
/// </summary>
internal sealed class PooledBatchWriter : IBufferWriter<byte>
{
    private readonly int _capacity;
    private readonly ArrayPool<byte> _pool;
    private byte[]? _buffer;

    public PooledBatchWriter(int capacity, ArrayPool<byte> pool)
    {
        _capacity = capacity;
        _pool = pool;
    }

    public int WrittenCount { get; private set; }

    public ReadOnlyMemory<byte> WrittenMemory => _buffer is null ? ReadOnlyMemory<byte>.Empty : _buffer.AsMemory(0, WrittenCount);

    public void Advance(int count)
    {
        if (count < 0 || WrittenCount + count > (_buffer?.Length ?? 0))
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "Advanced past the end of the batch buffer.");
        }

        WrittenCount += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0) => Ensure(sizeHint).AsMemory(WrittenCount);

    public Span<byte> GetSpan(int sizeHint = 0) => Ensure(sizeHint).AsSpan(WrittenCount);

    /// <summary>Returns the buffer to the pool; the next write rents again.</summary>
    public void Release()
    {
        if (_buffer is not null)
        {
            _pool.Return(_buffer);
            _buffer = null;
        }

        WrittenCount = 0;
    }

    private byte[] Ensure(int sizeHint)
    {
        _buffer ??= _pool.Rent(_capacity);
        if (_buffer.Length - WrittenCount < Math.Max(sizeHint, 1))
        {
            throw new InvalidOperationException($"A batch may not exceed {_capacity} bytes; the caller checks frame sizes first.");
        }

        return _buffer;
    }
}
