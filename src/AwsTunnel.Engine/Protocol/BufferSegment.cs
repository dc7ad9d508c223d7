using System.Buffers;

namespace AwsTunnel.Engine.Protocol;

/// <summary>
/// One link of a <see cref="ReadOnlySequence{T}"/> chain over memory someone else owns: used
/// to join parts of a frame without copying them (and by the tests, fuzz harness and
/// benchmarks to cut frames into segments).
/// </summary>
internal sealed class BufferSegment : ReadOnlySequenceSegment<byte>
{
    public BufferSegment(ReadOnlyMemory<byte> memory, long runningIndex = 0)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    /// <summary>Adds <paramref name="memory"/> after this segment and returns the new last segment.</summary>
    public BufferSegment Append(ReadOnlyMemory<byte> memory)
    {
        var next = new BufferSegment(memory, RunningIndex + Memory.Length);
        Next = next;
        return next;
    }
}
