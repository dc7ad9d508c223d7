using System.Buffers;
using AwsTunnel.Engine.Protocol;
using Google.Protobuf;

namespace AwsTunnel.Tests.Protocol;

/// <summary>
/// The pooled-payload overload of FrameDecoder.TryReadFrame against the plain one on bodies
/// written by hand, each an edge of the wire format where a shortcut could go wrong. Every case
/// goes through <see cref="DecoderDifferential"/> (strict and not); the asserts after it say
/// which way each decoder went.
/// </summary>
public class PooledFrameDecoderTests
{
    private static readonly byte[] Bytes = { 0x53, 0x53, 0x48, 0x2D, 0x32, 0x2E, 0x30 };

    private static DecodeResult Agree(WireBytes wire, bool strict = false) =>
        DecoderDifferential.AssertAgree(new ReadOnlySequence<byte>(wire.Frame()), strict);

    private static void AgreeBoth(WireBytes wire) => DecoderDifferential.AssertAgreeBothModes(new ReadOnlySequence<byte>(wire.Frame()));

    private static WireBytes DataWithPayloadAt(string position) => position switch
    {
        "first" => new WireBytes().Payload(Bytes).VarintField(1, 1).VarintField(2, 7).StringField(5, "SSH1").VarintField(7, 2),
        "middle" => new WireBytes().VarintField(1, 1).VarintField(2, 7).Payload(Bytes).StringField(5, "SSH1").VarintField(7, 2),
        _ => new WireBytes().VarintField(1, 1).VarintField(2, 7).StringField(5, "SSH1").VarintField(7, 2).Payload(Bytes),
    };

    [Theory]
    [InlineData("first")]
    [InlineData("middle")]
    [InlineData("last")]
    public void A_payload_anywhere_on_the_wire_is_pooled_and_decodes_as_protobuf_does(string position)
    {
        var wire = DataWithPayloadAt(position);

        foreach (bool strict in new[] { false, true })
        {
            var result = Agree(wire, strict);

            Assert.True(result.Pooled);
            Assert.Equal(Messages.Data(7, "SSH1", 2, ByteString.CopyFrom(Bytes)), result.Message);
        }
    }

    [Fact]
    public void A_payload_field_given_twice_is_not_pooled_and_the_last_one_wins()
    {
        var wire = new WireBytes().VarintField(1, 1).VarintField(2, 1).Payload(Bytes).Payload(new byte[] { 0x01, 0x02 });

        var result = Agree(wire);

        Assert.False(result.Pooled);
        Assert.Equal(new byte[] { 0x01, 0x02 }, result.Message!.Payload.ToByteArray());
        DecoderDifferential.AssertAgree(new ReadOnlySequence<byte>(wire.Frame()), strict: true);
    }

    [Fact]
    public void A_payload_followed_by_an_empty_payload_field_decodes_to_an_empty_payload()
    {
        var wire = new WireBytes().VarintField(1, 1).Payload(Bytes).Payload(Array.Empty<byte>());

        var result = Agree(wire);

        Assert.False(result.Pooled);
        Assert.True(result.Message!.Payload.IsEmpty);
        DecoderDifferential.AssertAgree(new ReadOnlySequence<byte>(wire.Frame()), strict: true);
    }

    [Fact]
    public void An_empty_payload_field_before_a_payload_is_not_pooled()
    {
        var wire = new WireBytes().Payload(Array.Empty<byte>()).Payload(Bytes);

        var result = Agree(wire);

        Assert.False(result.Pooled);
        Assert.Equal(Bytes, result.Message!.Payload.ToByteArray());
    }

    [Fact]
    public void An_empty_payload_rents_nothing()
    {
        var wire = new WireBytes().VarintField(1, 1).VarintField(2, 1).Payload(Array.Empty<byte>());

        var result = Agree(wire);

        Assert.False(result.Pooled);
        Assert.True(result.Message!.Payload.IsEmpty);
        AgreeBoth(wire);
    }

    [Fact]
    public void A_message_without_a_payload_rents_nothing()
    {
        var result = Agree(new WireBytes().Message(Messages.StreamStart(3, "SSH1", 1)));

        Assert.False(result.Pooled);
        Assert.Equal(Messages.StreamStart(3, "SSH1", 1), result.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Field_4_as_a_varint_is_an_unknown_field_to_both(bool withRealPayload)
    {
        var wire = new WireBytes().VarintField(1, 1).VarintField(4, 5);
        if (withRealPayload)
        {
            wire.Payload(Bytes);
        }

        var lenient = Agree(wire);
        var strict = Agree(wire, strict: true);

        Assert.False(lenient.Pooled);
        Assert.True(lenient.Complete);
        Assert.Equal(withRealPayload ? Bytes : Array.Empty<byte>(), lenient.Message!.Payload.ToByteArray());
        Assert.Equal(typeof(TunnelProtocolException), strict.Error);
    }

    [Fact]
    public void Field_4_as_a_varint_after_the_payload_is_unknown_to_both()
    {
        AgreeBoth(new WireBytes().Payload(Bytes).VarintField(4, 5));
        AgreeBoth(new WireBytes().Payload(Bytes).Tag(4, WireBytes.Fixed32).Raw(1, 2, 3, 4));
        AgreeBoth(new WireBytes().Payload(Bytes).Tag(4, WireBytes.Fixed64).Raw(1, 2, 3, 4, 5, 6, 7, 8));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    public void An_explicit_default_after_the_payload_overrides_the_earlier_value_in_both(int field)
    {
        var wire = new WireBytes().VarintField(1, 1).VarintField(2, 9).VarintField(3, 1).VarintField(7, 4).Payload(Bytes).VarintField(field, 0);

        var lenient = Agree(wire);
        var strict = Agree(wire, strict: true);

        Assert.True(lenient.Pooled);
        Assert.Equal(Bytes, lenient.Message!.Payload.ToByteArray());
        Assert.Equal(typeof(TunnelProtocolException), strict.Error); // the explicit default is not canonical
    }

    [Fact]
    public void Explicit_empty_strings_around_the_payload_decode_the_same()
    {
        AgreeBoth(new WireBytes().StringField(5, "SSH1").Payload(Bytes).StringField(5, string.Empty));
        AgreeBoth(new WireBytes().StringField(5, string.Empty).Payload(Bytes).StringField(6, string.Empty));
    }

    [Theory]
    [InlineData("before")]
    [InlineData("after")]
    [InlineData("both")]
    public void Unknown_fields_around_the_payload_are_dropped_leniently_and_refused_strictly_by_both(string where)
    {
        var wire = new WireBytes().VarintField(1, 1).VarintField(2, 1);
        if (where is "before" or "both")
        {
            wire.VarintField(15, 1).BytesField(16, new byte[] { 0x7A, 0x7A });
        }

        wire.Payload(Bytes);
        if (where is "after" or "both")
        {
            wire.Tag(9, WireBytes.Fixed32).Raw(1, 2, 3, 4).Tag(1000, WireBytes.Fixed64).Raw(1, 2, 3, 4, 5, 6, 7, 8);
        }

        var lenient = Agree(wire);
        var strict = Agree(wire, strict: true);

        Assert.True(lenient.Pooled);
        Assert.Equal(Messages.Data(1, string.Empty, 0, ByteString.CopyFrom(Bytes)), lenient.Message);
        Assert.Equal(typeof(TunnelProtocolException), strict.Error);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(100)]
    public void A_payload_length_past_the_end_of_the_body_is_refused_by_both(int missing)
    {
        var body = new WireBytes().VarintField(1, 1).Payload(new byte[200]).Body();

        var result = DecoderDifferential.AssertAgree(new ReadOnlySequence<byte>(WireBytes.FrameOf(body[..^missing])), strict: false);

        Assert.Equal(typeof(TunnelProtocolException), result.Error);
    }

    [Fact]
    public void A_truncated_payload_length_varint_is_refused_by_both()
    {
        var result = Agree(new WireBytes().VarintField(1, 1).Tag(4, WireBytes.LengthDelimited).Raw(0x80));

        Assert.Equal(typeof(TunnelProtocolException), result.Error);
        AgreeBoth(new WireBytes().Tag(4, WireBytes.LengthDelimited));
        AgreeBoth(new WireBytes().Payload(Bytes).Tag(4, WireBytes.LengthDelimited).Raw(0xFF, 0xFF, 0xFF, 0xFF, 0x0F));
    }

    [Fact]
    public void Groups_around_or_holding_a_payload_decode_the_same()
    {
        // A group of an unknown field, before and after the payload.
        AgreeBoth(new WireBytes().Tag(8, WireBytes.StartGroup).VarintField(1, 1).Tag(8, WireBytes.EndGroup).Payload(Bytes));
        AgreeBoth(new WireBytes().Payload(Bytes).Tag(8, WireBytes.StartGroup).VarintField(1, 1).Tag(8, WireBytes.EndGroup));
        // A group numbered like a known field (2) and like the payload (4).
        AgreeBoth(new WireBytes().Tag(2, WireBytes.StartGroup).Tag(2, WireBytes.EndGroup).Payload(Bytes));
        AgreeBoth(new WireBytes().Payload(Bytes).Tag(4, WireBytes.StartGroup).Tag(4, WireBytes.EndGroup));
        // A payload-looking field inside a group, and the real one outside it.
        AgreeBoth(new WireBytes().Tag(9, WireBytes.StartGroup).Payload(new byte[] { 1, 2 }).Tag(9, WireBytes.EndGroup).Payload(Bytes));
        // Nested groups; a group never closed; an end-group with no start; a mismatched end.
        AgreeBoth(new WireBytes().Tag(9, WireBytes.StartGroup).Tag(10, WireBytes.StartGroup).Tag(10, WireBytes.EndGroup).Tag(9, WireBytes.EndGroup).Payload(Bytes));
        AgreeBoth(new WireBytes().Payload(Bytes).Tag(9, WireBytes.StartGroup).VarintField(1, 1));
        AgreeBoth(new WireBytes().Payload(Bytes).Tag(9, WireBytes.EndGroup));
        AgreeBoth(new WireBytes().Tag(9, WireBytes.StartGroup).Tag(10, WireBytes.EndGroup).Payload(Bytes));
        // Wire types 6 and 7 do not exist.
        AgreeBoth(new WireBytes().Payload(Bytes).Tag(9, 6));
        AgreeBoth(new WireBytes().Tag(9, 7).Payload(Bytes));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(10)]
    [InlineData(11)]
    public void An_overlong_payload_tag_decodes_the_same(int tagBytes)
    {
        var wire = new WireBytes().VarintField(1, 1).VarintField(2, 3).Payload(Bytes, tagPadTo: tagBytes);

        var lenient = Agree(wire);
        Agree(wire, strict: true);

        if (tagBytes <= 5)
        {
            Assert.True(lenient.Pooled);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(10)]
    public void An_overlong_payload_length_decodes_the_same(int lengthBytes) =>
        AgreeBoth(new WireBytes().VarintField(1, 1).Payload(Bytes, lengthPadTo: lengthBytes));

    [Fact]
    public void A_five_byte_payload_tag_with_bits_beyond_32_decodes_the_same()
    {
        // 0x22 with a 5th byte carrying bit 32 and up: Google.Protobuf keeps the low 32 bits of a tag.
        AgreeBoth(new WireBytes().VarintField(1, 1).Raw(0xA2, 0x80, 0x80, 0x80, 0x10).VarintValue((ulong)Bytes.Length).Raw(Bytes));
        AgreeBoth(new WireBytes().VarintField(1, 1).Raw(0xA2, 0x80, 0x80, 0x80, 0x70).VarintValue((ulong)Bytes.Length).Raw(Bytes));
    }

    [Fact]
    public void Overlong_tags_and_values_of_other_fields_decode_the_same()
    {
        AgreeBoth(new WireBytes().Tag(1, WireBytes.Varint, padTo: 3).VarintValue(1).Payload(Bytes));
        AgreeBoth(new WireBytes().Payload(Bytes).Tag(2, WireBytes.Varint, padTo: 6).VarintValue(1));
        AgreeBoth(new WireBytes().Payload(Bytes).VarintField(2, 0).Tag(2, WireBytes.Varint).VarintValue(5, padTo: 10));
        AgreeBoth(new WireBytes().Payload(Bytes).Tag(2, WireBytes.Varint).VarintValue(5, padTo: 11));
        AgreeBoth(new WireBytes().Payload(Bytes).Tag(2, WireBytes.Varint).Raw(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F));
        AgreeBoth(new WireBytes().Tag(0, WireBytes.Varint).VarintValue(1).Payload(Bytes));
    }

    [Fact]
    public void A_negative_stream_id_in_five_bytes_decodes_the_same()
    {
        // Non-canonical: re-encodes in 10 bytes; refused strictly by both.
        AgreeBoth(new WireBytes().VarintField(1, 1).Tag(2, WireBytes.Varint).Raw(0xFF, 0xFF, 0xFF, 0xFF, 0x0F).Payload(Bytes));
    }

    [Fact]
    public void The_largest_payload_in_the_largest_frame_decodes_the_same()
    {
        var message = Messages.Data(1, "SSH1", 1, FrameStreams.Payload(ProtocolLimits.MaxPayloadSize));
        var frame = FrameEncoder.ToArray(message);

        var result = DecoderDifferential.AssertAgree(FrameStreams.Sequence(FrameStreams.Cut(frame, new[] { 16384, 32768, 49152 })), strict: true);

        Assert.True(result.Pooled);
        Assert.Equal(message, result.Message);
    }

    [Fact]
    public void The_non_canonical_maximum_frame_regression_is_refused_by_both()
    {
        var body = new WireBytes().VarintField(1, 1).Raw(0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F).VarintField(7, 1)
            .Raw(0x2A, 0xED, 0x07).Raw(Enumerable.Repeat((byte)0x53, 1005).ToArray())
            .Raw(0x22, 0x80, 0xF8, 0x03).Raw(Enumerable.Repeat((byte)0xAB, ProtocolLimits.MaxPayloadSize).ToArray());
        Assert.Equal(ProtocolLimits.MaxMessageSize, body.Length);

        var result = Agree(body);

        Assert.Equal(typeof(TunnelProtocolException), result.Error);
    }

    [Fact]
    public void An_incomplete_frame_rents_nothing_and_consumes_nothing()
    {
        var frame = DataWithPayloadAt("middle").Frame();
        for (int length = 0; length < frame.Length; length++)
        {
            var result = DecoderDifferential.AssertAgree(new ReadOnlySequence<byte>(frame, 0, length), strict: false);

            Assert.False(result.Complete);
        }
    }

    [Fact]
    public void A_frame_split_into_two_segments_at_every_byte_decodes_the_same()
    {
        var frame = DataWithPayloadAt("middle").Frame();
        for (int split = 0; split <= frame.Length; split++)
        {
            var result = DecoderDifferential.AssertAgree(FrameStreams.Sequence(FrameStreams.Cut(frame, new[] { split })), strict: true);

            Assert.True(result.Pooled, $"split at {split}");
        }
    }

    [Fact]
    public void A_frame_split_into_three_segments_at_every_pair_of_bytes_decodes_the_same()
    {
        var frame = new WireBytes().Payload(Bytes).VarintField(1, 1).VarintField(2, 1).Payload(Bytes.AsSpan(0, 2).ToArray()).Frame();
        var single = DataWithPayloadAt("first").Frame();
        foreach (var bytes in new[] { frame, single })
        {
            for (int a = 0; a <= bytes.Length; a++)
            {
                for (int b = a; b <= bytes.Length; b++)
                {
                    DecoderDifferential.AssertAgreeBothModes(FrameStreams.Sequence(FrameStreams.Cut(bytes, new[] { a, b })));
                }
            }
        }
    }

    [Fact]
    public void A_frame_with_one_byte_per_segment_decodes_the_same()
    {
        var frame = DataWithPayloadAt("last").Frame();

        var result = DecoderDifferential.AssertAgree(FrameStreams.Sequence(FrameStreams.Cut(frame, Enumerable.Range(1, frame.Length - 1))), strict: true);

        Assert.True(result.Pooled);
    }

    [Fact]
    public void The_pooled_decoder_advances_past_one_frame_of_a_stream_like_the_plain_one()
    {
        var stream = FrameStreams.Encode(FrameStreams.MixedMessages());
        var plain = new ReadOnlySequence<byte>(stream);
        var pooled = FrameStreams.Sequence(FrameStreams.Cut(stream, FrameStreams.RandomOffsets(stream.Length, 3, 700)));
        var decoded = new List<Message>();
        while (FrameDecoder.TryReadFrame(ref pooled, out var message, out var rented, strict: true))
        {
            Assert.True(FrameDecoder.TryReadFrame(ref plain, out var expected, strict: true));
            Assert.Equal(expected, message);
            Assert.Equal(message.Payload.Length > 0, rented is not null);
            var copy = message.Clone();
            copy.Payload = ByteString.CopyFrom(message.Payload.Span); // the rented buffer goes back to the pool
            decoded.Add(copy);
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        Assert.Equal(0, pooled.Length);
        Assert.Equal(0, plain.Length);
        Assert.Equal(FrameStreams.MixedMessages(), decoded);
    }
}
