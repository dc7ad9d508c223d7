using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace AwsTunnel.Tests.Support;

/// <summary>
/// An <see cref="ArrayPool{T}"/> that counts what is out: tests hand it to a session or link and
/// check that every rented buffer came back, and that none came back twice (which would
/// corrupt a real pool: that throws here).
/// </summary>
public sealed class CountingPool : ArrayPool<byte>
{
    private readonly ConcurrentDictionary<byte[], bool> _out = new(ReferenceEqualityComparer.Instance);
    private long _rented;
    private long _returned;
    private long _outBytes;
    private long _maxOutBytes;

    /// <summary>Buffers rented and not yet returned.</summary>
    public int Outstanding => _out.Count;

    /// <summary>Bytes (buffer lengths) rented and not yet returned.</summary>
    public long OutstandingBytes => Interlocked.Read(ref _outBytes);

    /// <summary>The most bytes that were out at any time.</summary>
    public long MaxOutstandingBytes => Interlocked.Read(ref _maxOutBytes);

    public long Rented => Interlocked.Read(ref _rented);
    public long Returned => Interlocked.Read(ref _returned);

    public override byte[] Rent(int minimumLength)
    {
        var buffer = new byte[Math.Max(minimumLength, 16)];
        _out[buffer] = true;
        Interlocked.Increment(ref _rented);
        long now = Interlocked.Add(ref _outBytes, buffer.Length);
        long max;
        while (now > (max = Interlocked.Read(ref _maxOutBytes)) && Interlocked.CompareExchange(ref _maxOutBytes, now, max) != max)
        {
        }

        return buffer;
    }

    public override void Return(byte[] array, bool clearArray = false)
    {
        if (!_out.TryRemove(array, out _))
        {
            throw new InvalidOperationException("A buffer was returned that is not out: returned twice, or never rented from this pool.");
        }

        Interlocked.Increment(ref _returned);
        Interlocked.Add(ref _outBytes, -array.Length);
    }
}
