using System.Buffers;
using AwsTunnel.Engine.Protocol;
using BenchmarkDotNet.Attributes;
using Google.Protobuf;

namespace AwsTunnel.Bench.Codec;

/// <summary>
/// B6: encoding and decoding one DATA frame (2-byte length prefix + protobuf message) with the
/// engine's codec, for a 1 KiB and a 63 KiB (the protocol maximum) payload.
/// </summary>
[MemoryDiagnoser]
public class DataFrameBenchmarks
{
    /// <summary>Pipe segments the engine's receive loop asks for (TunnelLink: GetMemory(16 KiB)).</summary>
    private const int SegmentSize = 16 * 1024;

    private byte[] _socketBuffer = Array.Empty<byte>();
    private Message _message = new();
    private ArrayBufferWriter<byte> _writer = new();
    private byte[] _frame = Array.Empty<byte>();
    private ReadOnlySequence<byte> _segmented;

    [Params(1024, ProtocolLimits.MaxPayloadSize)]
    public int PayloadBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _socketBuffer = new byte[ProtocolLimits.MaxPayloadSize];
        new Random(7).NextBytes(_socketBuffer);
        _message = Messages.Data(1, "SSH1", 1, UnsafeByteOperations.UnsafeWrap(_socketBuffer.AsMemory(0, PayloadBytes)));
        _writer = new ArrayBufferWriter<byte>(2 * ProtocolLimits.MaxFrameSize);
        _frame = FrameEncoder.ToArray(_message);
        _segmented = Segments.Split(_frame, SegmentSize);
    }

    /// <summary>FrameEncoder.Write of a built DATA message into a reused buffer writer.</summary>
    [Benchmark]
    public int Encode()
    {
        _writer.ResetWrittenCount();
        FrameEncoder.Write(_writer, _message);
        return _writer.WrittenCount;
    }

    /// <summary>
    /// FrameDecoder.TryReadFrame of one frame in a single contiguous segment, as the engine's receive
    /// loop (TunnelLink) decodes: the payload lands in a buffer rented from ArrayPool&lt;byte&gt;.Shared,
    /// which goes back to the pool once the message is used.
    /// </summary>
    [Benchmark]
    public int Decode()
    {
        var buffer = new ReadOnlySequence<byte>(_frame);
        FrameDecoder.TryReadFrame(ref buffer, out var message, out var rentedPayload, strict: false);
        int length = message.Payload.Length;
        ReturnToPool(rentedPayload);
        return length;
    }

    /// <summary>As <see cref="Decode"/>, of one frame spread over 16 KiB segments, as a pipe hands it over.</summary>
    [Benchmark]
    public int DecodeSegmented()
    {
        var buffer = _segmented;
        FrameDecoder.TryReadFrame(ref buffer, out var message, out var rentedPayload, strict: false);
        int length = message.Payload.Length;
        ReturnToPool(rentedPayload);
        return length;
    }

    /// <summary>For comparison: the plain overload, where Google.Protobuf copies the payload into a new ByteString.</summary>
    [Benchmark]
    public int DecodePlainProtobuf()
    {
        var buffer = new ReadOnlySequence<byte>(_frame);
        FrameDecoder.TryReadFrame(ref buffer, out var message, strict: false);
        return message.Payload.Length;
    }

    /// <summary>For comparison: the plain overload over 16 KiB segments.</summary>
    [Benchmark]
    public int DecodeSegmentedPlainProtobuf()
    {
        var buffer = _segmented;
        FrameDecoder.TryReadFrame(ref buffer, out var message, strict: false);
        return message.Payload.Length;
    }

    private static void ReturnToPool(byte[]? rentedPayload)
    {
        if (rentedPayload is not null)
        {
            ArrayPool<byte>.Shared.Return(rentedPayload);
        }
    }

    /// <summary>Building DATA from a socket read buffer by copying it into a ByteString, then encoding.</summary>
    [Benchmark]
    public int CopyPayloadAndEncode()
    {
        var message = Messages.Data(1, "SSH1", 1, ByteString.CopyFrom(_socketBuffer, 0, PayloadBytes));
        _writer.ResetWrittenCount();
        FrameEncoder.Write(_writer, message);
        return _writer.WrittenCount;
    }

    /// <summary>Building DATA over the socket read buffer without a copy (UnsafeByteOperations.UnsafeWrap), then encoding.</summary>
    [Benchmark]
    public int WrapPayloadAndEncode()
    {
        var message = Messages.Data(1, "SSH1", 1, UnsafeByteOperations.UnsafeWrap(_socketBuffer.AsMemory(0, PayloadBytes)));
        _writer.ResetWrittenCount();
        FrameEncoder.Write(_writer, message);
        return _writer.WrittenCount;
    }
}

/// <summary>Builds a multi-segment sequence over a byte array.</summary>
internal static class Segments
{
    public static ReadOnlySequence<byte> Split(byte[] data, int segmentSize)
    {
        BufferSegment? first = null, last = null;
        for (int offset = 0; offset < data.Length; offset += segmentSize)
        {
            var memory = data.AsMemory(offset, Math.Min(segmentSize, data.Length - offset));
            if (last is null)
            {
                first = last = new BufferSegment(memory, 0);
            }
            else
            {
                last = last.Append(memory);
            }
        }

        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

}
