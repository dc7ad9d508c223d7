using System.Buffers;
using System.Buffers.Binary;
using AwsTunnel.Engine.Protocol;
using Google.Protobuf;

namespace AwsTunnel.Tests.Protocol;

public class FrameEncoderTests
{
    [Fact]
    public void The_length_prefix_is_big_endian_and_equals_the_protobuf_size()
    {
        var message = Messages.Data(3, "SSH1", 2, FrameStreams.Payload(1000));

        var frame = FrameEncoder.ToArray(message);

        int size = message.CalculateSize();
        Assert.True(size > 255, "the test needs a size whose high byte is not zero");
        Assert.Equal((byte)(size >> 8), frame[0]);
        Assert.Equal((byte)(size & 0xFF), frame[1]);
        Assert.Equal(size, BinaryPrimitives.ReadUInt16BigEndian(frame));
    }

    [Fact]
    public void The_body_after_the_prefix_is_the_protobuf_encoding_of_the_message()
    {
        var message = Messages.StreamStart(9, "HTTP", 1);

        var frame = FrameEncoder.ToArray(message);

        Assert.Equal(message.ToByteArray(), frame.AsSpan(2).ToArray());
    }

    [Fact]
    public void FrameSize_is_the_prefix_plus_the_body()
    {
        var message = Messages.ServiceIds(new[] { "SSH1", "HTTP", "RDP" });

        Assert.Equal(2 + message.CalculateSize(), FrameEncoder.FrameSize(message));
        Assert.Equal(FrameEncoder.FrameSize(message), FrameEncoder.ToArray(message).Length);
    }

    [Fact]
    public void Write_appends_after_what_the_writer_already_holds()
    {
        var writer = new ArrayBufferWriter<byte>();
        writer.Write(new byte[] { 0xAA, 0xBB });
        var message = Messages.SessionReset();

        FrameEncoder.Write(writer, message);

        Assert.Equal(new byte[] { 0xAA, 0xBB }.Concat(FrameEncoder.ToArray(message)), writer.WrittenSpan.ToArray());
    }

    [Fact]
    public void A_data_message_with_the_largest_payload_encodes_and_decodes()
    {
        var message = Messages.Data(1, "SSH1", 1, FrameStreams.Payload(ProtocolLimits.MaxPayloadSize));

        var buffer = new ReadOnlySequence<byte>(FrameEncoder.ToArray(message));

        Assert.True(FrameDecoder.TryReadFrame(ref buffer, out var decoded));
        Assert.Equal(message, decoded);
    }

    [Fact]
    public void A_body_of_exactly_the_maximum_message_size_encodes_with_prefix_FFFE()
    {
        var message = MessageWithBodySize(ProtocolLimits.MaxMessageSize);

        var frame = FrameEncoder.ToArray(message);

        Assert.Equal(ProtocolLimits.MaxFrameSize, frame.Length);
        Assert.Equal(0xFF, frame[0]);
        Assert.Equal(0xFE, frame[1]);
    }

    [Fact]
    public void A_body_one_byte_over_the_maximum_message_size_is_refused()
    {
        var message = MessageWithBodySize(ProtocolLimits.MaxMessageSize + 1);

        Assert.Throws<TunnelProtocolException>(() => FrameEncoder.ToArray(message));
    }

    [Fact]
    public void A_message_larger_than_the_maximum_size_is_refused_with_a_reason()
    {
        var message = Messages.Data(1, "SSH1", 1, FrameStreams.Payload(70000));

        var ex = Assert.Throws<TunnelProtocolException>(() => FrameEncoder.ToArray(message));

        Assert.Contains("exceeds", ex.Message);
        Assert.Contains(ProtocolLimits.MaxMessageSize.ToString(), ex.Message);
    }

    [Fact]
    public void A_refused_message_writes_nothing()
    {
        var writer = new ArrayBufferWriter<byte>();

        Assert.Throws<TunnelProtocolException>(() =>
            FrameEncoder.Write(writer, Messages.Data(1, "SSH1", 1, FrameStreams.Payload(70000))));

        Assert.Equal(0, writer.WrittenCount);
    }

    private static Message MessageWithBodySize(int bodySize)
    {
        for (int payload = bodySize - 16; payload <= bodySize; payload++)
        {
            var message = new Message { Type = Message.Types.Type.Data, StreamId = 1, Payload = ByteString.CopyFrom(new byte[payload]) };
            if (message.CalculateSize() == bodySize)
            {
                return message;
            }
        }

        throw new InvalidOperationException($"No DATA message has a body of exactly {bodySize} bytes.");
    }
}
