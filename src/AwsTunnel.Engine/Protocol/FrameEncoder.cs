using System.Buffers;
using System.Buffers.Binary;
using Google.Protobuf;

namespace AwsTunnel.Engine.Protocol;

/// <summary>Writes tunneling frames: a 2-byte big-endian length, then the protobuf message.</summary>
public static class FrameEncoder
{
    /// <summary>The size of the frame <paramref name="message"/> encodes to, prefix included.</summary>
    public static int FrameSize(Message message) => ProtocolLimits.LengthPrefixSize + message.CalculateSize();

    /// <summary>Appends one frame for <paramref name="message"/> to <paramref name="writer"/>.</summary>
    /// <exception cref="TunnelProtocolException">the message is larger than a frame may be.</exception>
    public static void Write(IBufferWriter<byte> writer, Message message)
    {
        int bodySize = message.CalculateSize();
        if (bodySize > ProtocolLimits.MaxMessageSize)
        {
            throw new TunnelProtocolException(
                $"{MessageTypeName.AMessageOf(message.Type)} of {bodySize} bytes exceeds the protocol maximum of {ProtocolLimits.MaxMessageSize} bytes.");
        }

        int frameSize = ProtocolLimits.LengthPrefixSize + bodySize;
        var span = writer.GetSpan(frameSize);
        BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)bodySize);
        message.WriteTo(span.Slice(ProtocolLimits.LengthPrefixSize, bodySize));
        writer.Advance(frameSize);
    }

    /// <summary>Encodes one frame into a new array (tests and control messages).</summary>
    public static byte[] ToArray(Message message)
    {
        var writer = new ArrayBufferWriter<byte>(FrameSize(message));
        Write(writer, message);
        return writer.WrittenSpan.ToArray();
    }
}
