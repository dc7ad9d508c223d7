using System.Buffers;
using AwsTunnel.Engine.Protocol;
using FsCheck;
using FsCheck.Xunit;
using Google.Protobuf;

namespace AwsTunnel.Tests.Protocol;

/// <summary>Property-based checks of the frame reassembler: bounded passes, run in CI.</summary>
public class FrameDecoderProperties
{
    [Property(MaxTest = 300)]
    public bool Any_chunking_of_a_valid_frame_stream_decodes_to_the_same_messages(NonEmptyArray<byte[]> payloads, PositiveInt[] cuts)
    {
        var messages = payloads.Get
            .Select((p, i) => Messages.Data(i + 1, "SSH1", 1, ByteString.CopyFrom(p.Take(ProtocolLimits.MaxPayloadSize).ToArray())))
            .ToList();
        var writer = new ArrayBufferWriter<byte>();
        messages.ForEach(m => FrameEncoder.Write(writer, m));
        var bytes = writer.WrittenSpan.ToArray();

        var decoded = new List<Message>();
        var pending = Array.Empty<byte>();
        int start = 0;
        foreach (int end in cuts.Select(c => c.Get % (bytes.Length + 1)).Append(bytes.Length).Distinct().Order())
        {
            if (end < start)
            {
                continue;
            }

            var buffer = new ReadOnlySequence<byte>(pending.Concat(bytes[start..end]).ToArray());
            while (FrameDecoder.TryReadFrame(ref buffer, out var message))
            {
                decoded.Add(message);
            }

            pending = buffer.ToArray();
            start = end;
        }

        return pending.Length == 0 && decoded.SequenceEqual(messages);
    }

    [Property(MaxTest = 3000)]
    public void Arbitrary_bytes_raise_nothing_but_the_protocol_error(byte[] bytes)
    {
        var buffer = new ReadOnlySequence<byte>(bytes);
        try
        {
            while (FrameDecoder.TryReadFrame(ref buffer, out _))
            {
            }
        }
        catch (TunnelProtocolException)
        {
            // The one error the decoder may raise.
        }
    }
}
