using System.Buffers;
using AwsTunnel.Engine.Protocol;
using Google.Protobuf;

namespace AwsTunnel.Tests.Protocol;

/// <summary>Builds frame streams and delivers them to <see cref="FrameDecoder"/> in pieces.</summary>
internal static class FrameStreams
{
    /// <summary>A deterministic payload of <paramref name="size"/> bytes.</summary>
    public static ByteString Payload(int size, int seed = 0)
    {
        var bytes = new byte[size];
        new Random(seed + size).NextBytes(bytes);
        return ByteString.CopyFrom(bytes);
    }

    /// <summary>The messages of the stream the chunking tests decode.</summary>
    public static IReadOnlyList<Message> MixedMessages(bool includeLargest = true)
    {
        var list = new List<Message>
        {
            Messages.ServiceIds(new[] { "SSH1", "HTTP", "RDP" }),
            Messages.StreamStart(1, "SSH1", 1),
            Messages.Data(1, "SSH1", 1, ByteString.Empty),
            Messages.Data(1, "SSH1", 1, Payload(1)),
            Messages.Data(1, "SSH1", 1, Payload(127)),
            Messages.Data(1, "SSH1", 1, Payload(128)),
            Messages.Data(1, "SSH1", 1, Payload(300)),
        };
        if (includeLargest)
        {
            list.Add(Messages.Data(1, "SSH1", 1, Payload(ProtocolLimits.MaxPayloadSize)));
        }

        list.Add(Messages.ConnectionStart(1, "SSH1", 2));
        list.Add(Messages.ConnectionReset(1, "SSH1", 2));
        list.Add(Messages.StreamReset(1, "SSH1"));
        list.Add(Messages.SessionReset());
        return list;
    }

    /// <summary>All frames of <paramref name="messages"/> back to back.</summary>
    public static byte[] Encode(IEnumerable<Message> messages)
    {
        var writer = new ArrayBufferWriter<byte>();
        foreach (var message in messages)
        {
            FrameEncoder.Write(writer, message);
        }

        return writer.WrittenSpan.ToArray();
    }

    /// <summary>A sequence made of the given memory blocks, one segment each (empty blocks allowed).</summary>
    public static ReadOnlySequence<byte> Sequence(IReadOnlyList<ReadOnlyMemory<byte>> blocks)
    {
        if (blocks.Count == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new BufferSegment(blocks[0], 0);
        var last = first;
        for (int i = 1; i < blocks.Count; i++)
        {
            last = last.Append(blocks[i]);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>Cuts <paramref name="bytes"/> at the given offsets (ascending) into slices of the same array.</summary>
    public static IReadOnlyList<ReadOnlyMemory<byte>> Cut(byte[] bytes, IEnumerable<int> offsets)
    {
        var blocks = new List<ReadOnlyMemory<byte>>();
        int start = 0;
        foreach (int offset in offsets)
        {
            blocks.Add(bytes.AsMemory(start, offset - start));
            start = offset;
        }

        blocks.Add(bytes.AsMemory(start));
        return blocks;
    }

    /// <summary>Random cut offsets: chunks of 0 to <paramref name="maxChunk"/> bytes (empty chunks on purpose).</summary>
    public static IReadOnlyList<int> RandomOffsets(int length, int seed, int maxChunk)
    {
        var random = new Random(seed);
        var offsets = new List<int>();
        int position = 0;
        while (true)
        {
            position += random.Next(0, maxChunk + 1);
            if (position >= length)
            {
                return offsets;
            }

            offsets.Add(position);
        }
    }

    /// <summary>Decodes every whole frame of one sequence; the rest must be nothing.</summary>
    public static List<Message> DecodeAll(ReadOnlySequence<byte> buffer)
    {
        var messages = new List<Message>();
        while (FrameDecoder.TryReadFrame(ref buffer, out var message))
        {
            messages.Add(message);
        }

        Assert.Equal(0, buffer.Length);
        return messages;
    }

    /// <summary>
    /// Feeds the chunks one by one as a pipe reader would: each chunk is appended to a
    /// segment chain, and whatever was not consumed stays in front of it (nothing copied).
    /// </summary>
    public static List<Message> DecodeIncrementally(IReadOnlyList<ReadOnlyMemory<byte>> chunks)
    {
        var messages = new List<Message>();
        BufferSegment? last = null;
        BufferSegment? startSegment = null;
        int startIndex = 0;
        foreach (var chunk in chunks)
        {
            if (last is null)
            {
                last = startSegment = new BufferSegment(chunk, 0);
            }
            else
            {
                last = last.Append(chunk);
            }

            var buffer = new ReadOnlySequence<byte>(startSegment!, startIndex, last, last.Memory.Length);
            while (FrameDecoder.TryReadFrame(ref buffer, out var message))
            {
                messages.Add(message);
            }

            startSegment = (BufferSegment)buffer.Start.GetObject()!;
            startIndex = buffer.Start.GetInteger();
        }

        long left = last is null ? 0 : new ReadOnlySequence<byte>(startSegment!, startIndex, last, last.Memory.Length).Length;
        Assert.Equal(0, left);
        return messages;
    }

}
