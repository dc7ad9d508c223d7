using System.Buffers;
using System.Runtime.InteropServices;
using AwsTunnel.Engine.Protocol;

namespace AwsTunnel.Fuzz;

/// <summary>
/// The pooled-payload overload of FrameDecoder.TryReadFrame (the engine's receive path) must decode
/// exactly what the plain Google.Protobuf overload does: the same outcome (incomplete, an Equal
/// message after the same number of bytes, or TunnelProtocolException), strict and lenient, with a
/// rented buffer exactly when the message's payload lives in one.
/// </summary>
public static class PooledAgreement
{
    private static readonly bool[] StrictModes = [false, true];

    private sealed record Outcome(bool Complete, Message? Message, long Consumed, Exception? Error, byte[]? Rented)
    {
        public override string ToString() =>
            Error is not null ? $"{Error.GetType().Name}: {Error.Message}"
            : !Complete ? "incomplete"
            : $"{Message!.Type} message, {Message.Payload.Length}-byte payload, {Consumed} bytes consumed{(Rented is not null ? ", payload pooled" : string.Empty)}";
    }

    /// <summary>Decodes the front of <paramref name="buffer"/> both ways in both modes; throws on a difference.</summary>
    public static void Check(ReadOnlySequence<byte> buffer)
    {
        foreach (bool strict in StrictModes)
        {
            var plain = Decode(buffer, strict, pooled: false);
            var pooled = Decode(buffer, strict, pooled: true);
            try
            {
                string? difference = Difference(plain, pooled);
                if (difference is not null)
                {
                    throw new PropertyViolationException(
                        $"Pooled and plain FrameDecoder.TryReadFrame disagree (strict: {strict}): {difference}; plain: {plain}; pooled: {pooled}.");
                }

                if (pooled.Rented is not null)
                {
                    DecodeTarget.Stats.PooledFrames++;
                }
            }
            finally
            {
                if (pooled.Rented is not null)
                {
                    ArrayPool<byte>.Shared.Return(pooled.Rented);
                }
            }
        }
    }

    private static Outcome Decode(ReadOnlySequence<byte> buffer, bool strict, bool pooled)
    {
        var before = buffer;
        byte[]? rented = null;
        try
        {
            Message message;
            bool complete = pooled
                ? FrameDecoder.TryReadFrame(ref buffer, out message, out rented, strict)
                : FrameDecoder.TryReadFrame(ref buffer, out message, strict);
            return new Outcome(complete, complete ? message : null, before.Length - buffer.Length, null, rented);
        }
        catch (TunnelProtocolException ex)
        {
            return new Outcome(false, null, 0, ex, rented);
        }
    }

    private static string? Difference(Outcome plain, Outcome pooled)
    {
        if ((plain.Error is null) != (pooled.Error is null))
        {
            return "one refused the frame, the other did not";
        }

        if (pooled.Error is not null)
        {
            return pooled.Rented is not null ? "the pooled overload threw but handed out a rented buffer" : null;
        }

        if (plain.Complete != pooled.Complete || plain.Consumed != pooled.Consumed)
        {
            return "they consumed different lengths";
        }

        if (!pooled.Complete)
        {
            return pooled.Rented is not null ? "an incomplete frame rented a buffer" : null;
        }

        if (!plain.Message!.Equals(pooled.Message))
        {
            return "the messages are not Equal";
        }

        if (pooled.Rented is not null &&
            (pooled.Message!.Payload.IsEmpty || !MemoryMarshal.TryGetArray(pooled.Message.Payload.Memory, out var segment) || segment.Array != pooled.Rented))
        {
            return "the rented buffer is not where the payload lives";
        }

        return null;
    }
}
