using System.Buffers;
using System.Runtime.InteropServices;
using AwsTunnel.Engine.Protocol;

namespace AwsTunnel.Tests.Protocol;

/// <summary>What one TryReadFrame call did with one buffer.</summary>
internal sealed record DecodeResult(bool Complete, Message? Message, long Consumed, Type? Error, string? ErrorMessage, bool Pooled)
{
    public override string ToString() =>
        Error is not null ? $"threw {Error.Name}: {ErrorMessage}"
        : !Complete ? "incomplete"
        : $"message {Message} ({Consumed} bytes consumed{(Pooled ? ", payload pooled" : string.Empty)})";
}

/// <summary>
/// Runs the pooled overload of <see cref="FrameDecoder.TryReadFrame(ref ReadOnlySequence{byte}, out Message, out byte[], bool)"/>
/// and the plain Google.Protobuf one on the same buffer and fails, naming the input, when they differ:
/// the pooled one is an optimisation and must be invisible.
/// </summary>
internal static class DecoderDifferential
{
    /// <summary>Compares both overloads on <paramref name="buffer"/>; returns the pooled result (its buffer already back in the pool).</summary>
    public static DecodeResult AssertAgree(ReadOnlySequence<byte> buffer, bool strict)
    {
        var plain = Plain(buffer, strict);
        var pooled = Pooled(buffer, strict, out var rented);
        try
        {
            string? difference = Difference(plain, pooled);
            if (difference is null && pooled.Complete)
            {
                difference = CheckRented(pooled.Message!, rented, buffer);
            }

            if (difference is not null)
            {
                Assert.Fail(
                    $"Pooled and plain decoding disagree (strict: {strict}): {difference}.{Environment.NewLine}" +
                    $"  input ({buffer.Length} bytes, {SegmentCount(buffer)} segments): {Hex(buffer.ToArray())}{Environment.NewLine}" +
                    $"  plain:  {plain}{Environment.NewLine}" +
                    $"  pooled: {pooled}");
            }

            return pooled;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Both overloads, strict and not.</summary>
    public static void AssertAgreeBothModes(ReadOnlySequence<byte> buffer)
    {
        AssertAgree(buffer, strict: false);
        AssertAgree(buffer, strict: true);
    }

    public static DecodeResult Plain(ReadOnlySequence<byte> buffer, bool strict)
    {
        var before = buffer;
        try
        {
            bool complete = FrameDecoder.TryReadFrame(ref buffer, out var message, strict);
            return new DecodeResult(complete, complete ? message : null, before.Length - buffer.Length, null, null, false);
        }
        catch (Exception ex)
        {
            return new DecodeResult(false, null, 0, ex.GetType(), ex.Message, false);
        }
    }

    public static DecodeResult Pooled(ReadOnlySequence<byte> buffer, bool strict, out byte[]? rented)
    {
        var before = buffer;
        rented = null;
        try
        {
            bool complete = FrameDecoder.TryReadFrame(ref buffer, out var message, out rented, strict);
            return new DecodeResult(complete, complete ? message : null, before.Length - buffer.Length, null, null, rented is not null);
        }
        catch (Exception ex)
        {
            return new DecodeResult(false, null, 0, ex.GetType(), ex.Message, rented is not null);
        }
    }

    private static string? Difference(DecodeResult plain, DecodeResult pooled)
    {
        if (plain.Error != pooled.Error)
        {
            return $"exception {plain.Error?.Name ?? "none"} vs {pooled.Error?.Name ?? "none"}";
        }

        if (pooled.Error is not null && pooled.Error != typeof(TunnelProtocolException))
        {
            return $"both threw {pooled.Error.Name}, which is not the protocol error";
        }

        if (pooled.Error is not null && pooled.Pooled)
        {
            return "the pooled overload threw but left a rented buffer";
        }

        if (plain.Complete != pooled.Complete)
        {
            return $"complete {plain.Complete} vs {pooled.Complete}";
        }

        if (plain.Consumed != pooled.Consumed)
        {
            return $"consumed {plain.Consumed} vs {pooled.Consumed} bytes";
        }

        if (plain.Complete && !plain.Message!.Equals(pooled.Message))
        {
            return "the messages are not Equal";
        }

        if (!pooled.Complete && pooled.Pooled)
        {
            return "an incomplete frame rented a buffer";
        }

        return null;
    }

    /// <summary>rentedPayload is non-null iff the payload lives in it: PayloadField found exactly one non-empty payload.</summary>
    private static string? CheckRented(Message message, byte[]? rented, ReadOnlySequence<byte> buffer)
    {
        var prefix = buffer.Slice(0, ProtocolLimits.LengthPrefixSize).ToArray();
        bool single = PayloadField.TryFind(buffer.Slice(ProtocolLimits.LengthPrefixSize, prefix[0] << 8 | prefix[1]), out _);
        if (single != (rented is not null))
        {
            return single ? "PayloadField finds a single payload field, yet nothing was rented" : "a buffer was rented although PayloadField finds no single payload field";
        }

        if (rented is null)
        {
            return null;
        }

        if (message.Payload.Length == 0)
        {
            return "a buffer was rented for an empty payload";
        }

        if (!MemoryMarshal.TryGetArray(message.Payload.Memory, out var segment) || segment.Array != rented || segment.Offset != 0)
        {
            return "the message's payload does not wrap the rented buffer";
        }

        return null;
    }

    private static int SegmentCount(ReadOnlySequence<byte> buffer)
    {
        int count = 0;
        foreach (var _ in buffer)
        {
            count++;
        }

        return count;
    }

    public static string Hex(byte[] bytes) =>
        bytes.Length <= 512
            ? Convert.ToHexString(bytes)
            : $"{Convert.ToHexString(bytes, 0, 384)}...({bytes.Length - 512} more)...{Convert.ToHexString(bytes, bytes.Length - 128, 128)}";
}
