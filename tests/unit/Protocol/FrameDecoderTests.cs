using System.Buffers;
using AwsTunnel.Engine.Protocol;
using Google.Protobuf;

namespace AwsTunnel.Tests.Protocol;

public class FrameDecoderTests
{
    private static readonly IReadOnlyList<Message> Mixed = FrameStreams.MixedMessages();
    private static readonly byte[] MixedStream = FrameStreams.Encode(Mixed);

    [Fact]
    public void A_stream_delivered_in_one_chunk_decodes_every_frame_in_order()
    {
        var decoded = FrameStreams.DecodeAll(new ReadOnlySequence<byte>(MixedStream));

        Assert.Equal(Mixed, decoded);
    }

    [Fact]
    public void A_stream_split_at_every_byte_boundary_decodes_identically()
    {
        for (int split = 0; split <= MixedStream.Length; split++)
        {
            var chunks = new[] { MixedStream.AsMemory(0, split), MixedStream.AsMemory(split) };

            var decoded = FrameStreams.DecodeIncrementally(chunks.Select(c => (ReadOnlyMemory<byte>)c).ToList());

            if (!decoded.SequenceEqual(Mixed))
            {
                Assert.Fail($"Split at byte {split} of {MixedStream.Length} decoded differently.");
            }
        }
    }

    [Fact]
    public void A_stream_held_as_two_segments_split_at_every_byte_boundary_decodes_identically()
    {
        for (int split = 0; split <= MixedStream.Length; split++)
        {
            var sequence = FrameStreams.Sequence(FrameStreams.Cut(MixedStream, new[] { split }));

            var decoded = FrameStreams.DecodeAll(sequence);

            if (!decoded.SequenceEqual(Mixed))
            {
                Assert.Fail($"Two segments split at byte {split} of {MixedStream.Length} decoded differently.");
            }
        }
    }

    [Theory]
    [InlineData(1, 3)]
    [InlineData(2, 17)]
    [InlineData(3, 1000)]
    [InlineData(4, 70000)]
    [InlineData(5, 1)]
    [InlineData(6, 2)]
    public void A_multi_segment_sequence_with_random_segment_sizes_decodes_identically(int seed, int maxChunk)
    {
        var offsets = FrameStreams.RandomOffsets(MixedStream.Length, seed, maxChunk);
        var sequence = FrameStreams.Sequence(FrameStreams.Cut(MixedStream, offsets));

        var decoded = FrameStreams.DecodeAll(sequence);

        Assert.Equal(Mixed, decoded);
    }

    [Theory]
    [InlineData(11, 5)]
    [InlineData(12, 64)]
    [InlineData(13, 4096)]
    [InlineData(14, 131076)]
    public void Random_chunks_fed_one_at_a_time_decode_identically(int seed, int maxChunk)
    {
        var offsets = FrameStreams.RandomOffsets(MixedStream.Length, seed, maxChunk);

        var decoded = FrameStreams.DecodeIncrementally(FrameStreams.Cut(MixedStream, offsets));

        Assert.Equal(Mixed, decoded);
    }

    [Fact]
    public void Many_small_frames_merged_into_one_chunk_all_decode()
    {
        var messages = Enumerable.Range(1, 500)
            .Select(i => Messages.Data(i, "SSH1", (uint)i, FrameStreams.Payload(i % 40)))
            .ToList();
        var stream = FrameStreams.Encode(messages);

        var decoded = FrameStreams.DecodeAll(new ReadOnlySequence<byte>(stream));

        Assert.Equal(messages, decoded);
    }

    [Fact]
    public void A_frame_is_read_correctly_when_its_prefix_straddles_two_segments()
    {
        var frame = FrameEncoder.ToArray(Messages.Data(7, "SSH1", 3, FrameStreams.Payload(300)));
        var sequence = FrameStreams.Sequence(FrameStreams.Cut(frame, new[] { 1 }));

        Assert.True(FrameDecoder.TryReadFrame(ref sequence, out var message));
        Assert.Equal(300, message.Payload.Length);
        Assert.Equal(0, sequence.Length);
    }

    [Fact]
    public void Empty_segments_in_the_sequence_do_not_disturb_decoding()
    {
        var empty = ReadOnlyMemory<byte>.Empty;
        var blocks = new List<ReadOnlyMemory<byte>> { empty };
        foreach (var block in FrameStreams.Cut(MixedStream, new[] { 1, 2, 3, 500, 501 }))
        {
            blocks.Add(block);
            blocks.Add(empty);
        }

        var decoded = FrameStreams.DecodeAll(FrameStreams.Sequence(blocks));

        Assert.Equal(Mixed, decoded);
    }

    [Fact]
    public void Reading_a_frame_advances_the_buffer_exactly_past_that_frame()
    {
        var first = FrameEncoder.ToArray(Messages.StreamStart(1, "SSH1", 1));
        var second = FrameEncoder.ToArray(Messages.Data(1, "SSH1", 1, FrameStreams.Payload(10)));
        var buffer = new ReadOnlySequence<byte>(first.Concat(second).ToArray());

        Assert.True(FrameDecoder.TryReadFrame(ref buffer, out _));

        Assert.Equal(second, buffer.ToArray());
    }

    [Fact]
    public void An_empty_buffer_holds_no_frame()
    {
        var buffer = ReadOnlySequence<byte>.Empty;

        Assert.False(FrameDecoder.TryReadFrame(ref buffer, out _));
        Assert.Equal(0, buffer.Length);
    }

    [Fact]
    public void A_single_byte_returns_false_and_leaves_the_buffer_unchanged()
    {
        AssertIncompleteAndUnchanged(MixedStream.AsMemory(0, 1));
    }

    [Fact]
    public void A_length_prefix_alone_returns_false_and_leaves_the_buffer_unchanged()
    {
        AssertIncompleteAndUnchanged(MixedStream.AsMemory(0, 2));
    }

    [Fact]
    public void A_prefix_with_part_of_the_body_returns_false_and_leaves_the_buffer_unchanged()
    {
        var frame = FrameEncoder.ToArray(Messages.Data(1, "SSH1", 1, FrameStreams.Payload(1000)));
        for (int length = 3; length < frame.Length; length += 97)
        {
            AssertIncompleteAndUnchanged(frame.AsMemory(0, length));
        }

        AssertIncompleteAndUnchanged(frame.AsMemory(0, frame.Length - 1));
    }

    [Fact]
    public void A_partial_frame_split_across_segments_returns_false_and_leaves_the_buffer_unchanged()
    {
        var frame = FrameEncoder.ToArray(Messages.Data(1, "SSH1", 1, FrameStreams.Payload(1000)));
        var buffer = FrameStreams.Sequence(FrameStreams.Cut(frame.AsSpan(0, 600).ToArray(), new[] { 1, 2, 300 }));
        var before = buffer;

        Assert.False(FrameDecoder.TryReadFrame(ref buffer, out _));

        Assert.Equal(before.Start, buffer.Start);
        Assert.Equal(before.End, buffer.End);
    }

    [Fact]
    public void A_whole_frame_followed_by_a_partial_one_yields_the_whole_one_and_keeps_the_partial_bytes()
    {
        var whole = FrameEncoder.ToArray(Messages.StreamReset(4, "HTTP"));
        var partial = FrameEncoder.ToArray(Messages.Data(4, "HTTP", 1, FrameStreams.Payload(50))).AsSpan(0, 20).ToArray();
        var buffer = new ReadOnlySequence<byte>(whole.Concat(partial).ToArray());

        Assert.True(FrameDecoder.TryReadFrame(ref buffer, out var message));
        Assert.Equal(Message.Types.Type.StreamReset, message.Type);
        Assert.False(FrameDecoder.TryReadFrame(ref buffer, out _));
        Assert.Equal(partial, buffer.ToArray());
    }

    [Fact]
    public void A_zero_length_frame_decodes_to_a_message_of_type_unknown()
    {
        var buffer = new ReadOnlySequence<byte>(new byte[] { 0x00, 0x00 });

        Assert.True(FrameDecoder.TryReadFrame(ref buffer, out var message));

        Assert.Equal(Message.Types.Type.Unknown, message.Type);
        Assert.Equal(0, buffer.Length);
    }

    [Fact]
    public void A_length_prefix_of_65535_is_rejected_before_the_body_arrives()
    {
        var buffer = new ReadOnlySequence<byte>(new byte[] { 0xFF, 0xFF });

        var ex = Assert.Throws<TunnelProtocolException>(() => FrameDecoder.TryReadFrame(ref buffer, out _));

        Assert.Contains("65535", ex.Message);
        Assert.Contains("exceeds", ex.Message);
    }

    [Fact]
    public void A_length_prefix_over_the_maximum_is_rejected_even_when_split_across_segments()
    {
        var buffer = FrameStreams.Sequence(new ReadOnlyMemory<byte>[] { new byte[] { 0xFF }, new byte[] { 0xFF, 0x08, 0x01 } });

        var ex = Assert.Throws<TunnelProtocolException>(() => FrameDecoder.TryReadFrame(ref buffer, out _));

        Assert.Contains("length prefix", ex.Message);
    }

    [Fact]
    public void A_length_prefix_at_the_maximum_message_size_is_accepted_as_an_incomplete_frame()
    {
        // 65534 = 65536-byte frame less the 2-byte prefix: the largest legal body.
        var buffer = new ReadOnlySequence<byte>(new byte[] { 0xFF, 0xFE, 0x08, 0x01 });

        Assert.False(FrameDecoder.TryReadFrame(ref buffer, out _));
        Assert.Equal(4, buffer.Length);
    }

    [Fact]
    public void A_garbage_body_is_rejected_as_a_malformed_message()
    {
        var buffer = new ReadOnlySequence<byte>(new byte[] { 0x00, 0x03, 0xFF, 0xFF, 0xFF });

        var ex = Assert.Throws<TunnelProtocolException>(() => FrameDecoder.TryReadFrame(ref buffer, out _));

        Assert.Contains("Malformed", ex.Message);
        Assert.IsAssignableFrom<InvalidProtocolBufferException>(ex.InnerException);
    }

    [Fact]
    public void A_body_truncated_inside_a_field_is_rejected_as_a_malformed_message()
    {
        // Field 4 (payload), length 10, but only 2 bytes follow inside the frame.
        var buffer = new ReadOnlySequence<byte>(new byte[] { 0x00, 0x04, 0x22, 0x0A, 0x01, 0x02 });

        var ex = Assert.Throws<TunnelProtocolException>(() => FrameDecoder.TryReadFrame(ref buffer, out _));

        Assert.Contains("4 bytes", ex.Message);
    }

    [Fact]
    public void A_rejected_frame_leaves_the_buffer_where_it_was()
    {
        var bytes = new byte[] { 0x00, 0x03, 0xFF, 0xFF, 0xFF };
        var buffer = new ReadOnlySequence<byte>(bytes);

        Assert.Throws<TunnelProtocolException>(() => FrameDecoder.TryReadFrame(ref buffer, out _));

        Assert.Equal(bytes, buffer.ToArray());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Arbitrary_bytes_never_raise_anything_but_a_TunnelProtocolException(int seed)
    {
        var random = new Random(seed);
        for (int round = 0; round < 3000; round++)
        {
            var body = new byte[random.Next(0, 48)];
            random.NextBytes(body);
            // Mostly honest prefixes so the body reaches the protobuf parser.
            int announced = random.Next(4) == 0 ? random.Next(0, 65536) : body.Length;
            var bytes = new byte[] { (byte)(announced >> 8), (byte)announced }.Concat(body).ToArray();
            var offsets = FrameStreams.RandomOffsets(bytes.Length, seed * 10000 + round, 8);
            var buffer = FrameStreams.Sequence(FrameStreams.Cut(bytes, offsets));

            try
            {
                while (FrameDecoder.TryReadFrame(ref buffer, out _))
                {
                }
            }
            catch (TunnelProtocolException)
            {
            }
            catch (Exception ex)
            {
                Assert.Fail($"Bytes {Convert.ToHexString(bytes)} raised {ex.GetType()}: {ex.Message}");
            }
        }
    }

    private static void AssertIncompleteAndUnchanged(ReadOnlyMemory<byte> bytes)
    {
        var buffer = new ReadOnlySequence<byte>(bytes);
        var before = buffer;

        bool read = FrameDecoder.TryReadFrame(ref buffer, out _);

        Assert.False(read, $"{bytes.Length} bytes were taken for a whole frame.");
        Assert.Equal(before.Start, buffer.Start);
        Assert.Equal(before.End, buffer.End);
        Assert.Equal(bytes.ToArray(), buffer.ToArray());
    }
}
