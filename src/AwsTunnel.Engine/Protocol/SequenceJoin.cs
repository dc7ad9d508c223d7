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

        BufferSegment? head = null;
        BufferSegment? tail = null;
        Append(first, ref head, ref tail);
        Append(second, ref head, ref tail);
        return new ReadOnlySequence<byte>(head!, 0, tail!, tail!.Memory.Length);
    }

    private static void Append(ReadOnlySequence<byte> sequence, ref BufferSegment? head, ref BufferSegment? tail)
    {
        foreach (var memory in sequence)
        {
            if (memory.IsEmpty)
            {
                continue;
            }

            if (tail is null)
            {
                head = tail = new BufferSegment(memory);
            }
            else
            {
                tail = tail.Append(memory);
            }
        }
    }
}
