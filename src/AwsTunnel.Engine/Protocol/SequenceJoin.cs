using System.Buffers;

namespace AwsTunnel.Engine.Protocol;

/// <summary>Joins two byte sequences into one without copying their bytes (only segment headers are made).</summary>
internal static class SequenceJoin
{
    public static ReadOnlySequence<byte> Join(ReadOnlySequence<byte> first, ReadOnlySequence<byte> second)
    {
        if (first.IsEmpty)
        {
            return second;
        }

        if (second.IsEmpty)
        {
            return first;
        }

        Chunk? head = null;
        Chunk? tail = null;
        Append(first, ref head, ref tail);
        Append(second, ref head, ref tail);
        return new ReadOnlySequence<byte>(head!, 0, tail!, tail!.Memory.Length);
    }

    private static void Append(ReadOnlySequence<byte> sequence, ref Chunk? head, ref Chunk? tail)
    {
        foreach (var memory in sequence)
        {
            if (memory.IsEmpty)
            {
                continue;
            }

            var chunk = new Chunk(memory, tail is null ? 0 : tail.RunningIndex + tail.Memory.Length);
            if (tail is null)
            {
                head = chunk;
            }
            else
            {
                tail.SetNext(chunk);
            }

            tail = chunk;
        }
    }

    private sealed class Chunk : ReadOnlySequenceSegment<byte>
    {
        public Chunk(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public void SetNext(Chunk next) => Next = next;
    }
}
