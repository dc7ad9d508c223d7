using AwsTunnel.Engine.Protocol;

namespace AwsTunnel.Tests.Protocol;

/// <summary>
/// Hand-built protobuf wire bytes, for bodies Google.Protobuf would never write: fields out of
/// order or twice, wrong wire types, groups, overlong varints, unknown fields.
/// </summary>
internal sealed class WireBytes
{
    public const int Varint = 0;
    public const int Fixed64 = 1;
    public const int LengthDelimited = 2;
    public const int StartGroup = 3;
    public const int EndGroup = 4;
    public const int Fixed32 = 5;

    private readonly List<byte> _bytes = new();

    public int Length => _bytes.Count;

    public WireBytes Raw(params byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    /// <summary>A varint; <paramref name="padTo"/> pads it with 0x80 continuation bytes to that many bytes (non-canonical).</summary>
    public WireBytes VarintValue(ulong value, int padTo = 0)
    {
        int written = 0;
        do
        {
            byte b = (byte)(value & 0x7F);
            value >>= 7;
            written++;
            bool more = value != 0 || written < padTo;
            _bytes.Add(more ? (byte)(b | 0x80) : b);
        }
        while (value != 0 || written < padTo);

        return this;
    }

    public WireBytes Tag(int field, int wireType, int padTo = 0) => VarintValue(((ulong)(uint)field << 3) | (uint)wireType, padTo);

    public WireBytes VarintField(int field, ulong value) => Tag(field, Varint).VarintValue(value);

    public WireBytes BytesField(int field, byte[] value, int tagPadTo = 0, int lengthPadTo = 0)
    {
        Tag(field, LengthDelimited, tagPadTo).VarintValue((ulong)value.Length, lengthPadTo);
        _bytes.AddRange(value);
        return this;
    }

    public WireBytes StringField(int field, string value) => BytesField(field, System.Text.Encoding.UTF8.GetBytes(value));

    public WireBytes Payload(byte[] value, int tagPadTo = 0, int lengthPadTo = 0) => BytesField(4, value, tagPadTo, lengthPadTo);

    /// <summary>A whole message as Google.Protobuf writes it (fields in number order).</summary>
    public WireBytes Message(Message message) => Raw(Google.Protobuf.MessageExtensions.ToByteArray(message));

    public byte[] Body() => _bytes.ToArray();

    /// <summary>The body behind its 2-byte big-endian length prefix.</summary>
    public byte[] Frame() => FrameOf(Body());

    public static byte[] FrameOf(byte[] body)
    {
        var frame = new byte[ProtocolLimits.LengthPrefixSize + body.Length];
        frame[0] = (byte)(body.Length >> 8);
        frame[1] = (byte)body.Length;
        body.CopyTo(frame, ProtocolLimits.LengthPrefixSize);
        return frame;
    }
}
