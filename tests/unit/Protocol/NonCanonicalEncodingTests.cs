using System.Buffers;
using AwsTunnel.Engine.Protocol;
using Google.Protobuf;

namespace AwsTunnel.Tests.Protocol;

/// <summary>The fuzz harness's regression: tests/fuzz/corpus/regressions/negative-stream-id-5-byte-varint-max-frame.bin.</summary>
public class NonCanonicalEncodingTests
{
    [Fact]
    public void A_frame_whose_message_re_encodes_larger_than_a_frame_is_rejected()
    {
        var body = new List<byte> { 0x08, 0x01, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x38, 0x01, 0x2A, 0xED, 0x07 };
        body.AddRange(Enumerable.Repeat((byte)0x53, 1005));
        body.AddRange(new byte[] { 0x22, 0x80, 0xF8, 0x03 });
        body.AddRange(Enumerable.Repeat((byte)0xAB, ProtocolLimits.MaxPayloadSize));
        Assert.Equal(ProtocolLimits.MaxMessageSize, body.Count);
        var frame = new byte[] { 0xFF, 0xFE }.Concat(body).ToArray();
        var buffer = new ReadOnlySequence<byte>(frame);

        var error = Assert.Throws<TunnelProtocolException>(() => FrameDecoder.TryReadFrame(ref buffer, out _));

        Assert.Contains("non-canonical", error.Message);
    }

    [Fact]
    public void Unknown_fields_are_dropped_when_decoding()
    {
        var known = Messages.Data(1, "SSH1", 1, ByteString.CopyFromUtf8("x")).ToByteArray();
        var body = known.Concat(new byte[] { 0x48, 0x01 }).ToArray();
        var buffer = new ReadOnlySequence<byte>(new[] { (byte)0, (byte)body.Length }.Concat(body).ToArray());

        Assert.True(FrameDecoder.TryReadFrame(ref buffer, out var message));

        Assert.Equal(known.Length, message.CalculateSize());
    }
}
