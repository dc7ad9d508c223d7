using System.Buffers;

namespace AwsTunnel.Engine.Protocol;

/// <summary>
/// A DATA payload in a buffer rented from a pool, and its only owner: whoever holds it either
/// hands it on or disposes it. <see cref="Dispose"/> returns the buffer exactly once, however
/// often and from however many threads it is called, so a buffer can never go back to the
/// (process-wide) pool twice. A <see cref="Message"/> whose payload wraps <see cref="Memory"/>
/// is a view that is valid until then.
/// </summary>
internal sealed class PooledPayload : IMemoryOwner<byte>
{
    private readonly ArrayPool<byte> _pool;
    private byte[]? _array;

    private PooledPayload(ArrayPool<byte> pool, byte[] array, int length)
    {
        _pool = pool;
        _array = array;
        Length = length;
    }

    /// <summary>The payload's size in bytes.</summary>
    public int Length { get; private set; }

    /// <summary>The payload bytes.</summary>
    /// <exception cref="ObjectDisposedException">the buffer was already returned.</exception>
    public Memory<byte> Memory => (_array ?? throw new ObjectDisposedException(nameof(PooledPayload))).AsMemory(0, Length);

    /// <summary>Rents a buffer of at least <paramref name="capacity"/> bytes; <see cref="Length"/> starts at the capacity.</summary>
    public static PooledPayload Rent(ArrayPool<byte> pool, int capacity) => new(pool, pool.Rent(capacity), capacity);

    /// <summary>Takes ownership of <paramref name="rented"/>, a buffer from <paramref name="pool"/> whose first <paramref name="length"/> bytes are the payload.</summary>
    public static PooledPayload Adopt(ArrayPool<byte> pool, byte[] rented, int length) => new(pool, rented, length);

    /// <summary>Keeps only the first <paramref name="length"/> bytes (after a read filled that many).</summary>
    public void Truncate(int length)
    {
        if (length < 0 || length > Length)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, $"A payload of {Length} bytes cannot be cut to {length}.");
        }

        Length = length;
    }

    /// <summary>Returns the buffer to its pool; later calls do nothing.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _array, null) is { } array)
        {
            _pool.Return(array);
        }
    }
}
