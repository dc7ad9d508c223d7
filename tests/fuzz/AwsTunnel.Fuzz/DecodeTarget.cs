using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using AwsTunnel.Engine.Protocol;
using Google.Protobuf;

namespace AwsTunnel.Fuzz;

/// <summary>A property of the decoder or the validator does not hold. Escapes on purpose: the fuzzer records a crash.</summary>
public sealed class PropertyViolationException(string message) : Exception(message);

/// <summary>How the received byte stream ended for one way of feeding it.</summary>
public enum StreamEnd
{
    /// <summary>Every byte belonged to a whole frame.</summary>
    Clean,
    /// <summary>The stream ended inside a frame (TunnelLink: "ended inside a tunneling frame").</summary>
    Partial,
    /// <summary>FrameDecoder raised TunnelProtocolException (TunnelLink closes the WebSocket).</summary>
    ProtocolError,
}

public sealed record DecodeOutcome(string Path, List<Message> Messages, StreamEnd End, long LeftOver, string? Error);

/// <summary>Totals over the inputs a process ran (the replay summary).</summary>
public sealed class DecodeStats
{
    public long Inputs;
    public long Frames;
    public long ProtocolErrors;
    public long PartialEnds;
    public long MaxAllocatedPerFrame;
    public long MaxAllocatedFrameBytes;
    public long PooledFrames;
    public long Accepted;
    public long Ignored;
    public long Violations;
}

/// <summary>
/// The fuzz target: the received bytes, cut as the header says, are reassembled three ways
/// (a Pipe driven as TunnelLink.DispatchAsync drives it, a hand-built multi-segment
/// ReadOnlySequence that grows one chunk at a time, and one contiguous buffer), each through
/// FrameDecoder.TryReadFrame; every decoded message goes through MessageRules in both modes.
/// Only TunnelProtocolException may come out of the decoder; anything else escapes, and so
/// does a <see cref="PropertyViolationException"/> when a property below fails.
/// </summary>
/// <remarks>
/// Properties:
/// <list type="number">
/// <item>FrameDecoder raises nothing but TunnelProtocolException (with a message); MessageRules raises nothing.</item>
/// <item>A length prefix over ProtocolLimits.MaxMessageSize is refused as soon as the prefix is in, never waited on;
/// a refused body is an InvalidProtocolBufferException wrapped in TunnelProtocolException.</item>
/// <item>TryReadFrame returning false leaves the buffer as it was; returning true consumes exactly prefix + length bytes.</item>
/// <item>Per frame: the decoded message's CalculateSize() is at most ProtocolLimits.MaxMessageSize (so it can be
/// framed again, as LocalTunnelService does when it forwards it), and decoding allocated at most
/// <see cref="AllocationBudgetPerFrame"/> bytes.</item>
/// <item>A decoded message re-encodes (FrameEncoder) and decodes back to an equal message.</item>
/// <item>MessageRules agrees with a model of the rules (type 0, unknown types and ignorable, stream id 0,
/// payload over 64512, who may send what) in both modes, for received and sent messages, and is deterministic.</item>
/// <item>The chunking changes nothing: all three ways decode the same messages and end the same way.</item>
/// <item>The pooled-payload overload (the engine's receive path) agrees with the plain one on every buffer the
/// decoder sees, strict and lenient (<see cref="PooledAgreement"/>).</item>
/// <item>Termination: every loop is bounded by the input length (a frame consumes at least its 2-byte prefix).</item>
/// </list>
/// </remarks>
public static class DecodeTarget
{
    /// <summary>
    /// Bytes one frame's decoding may allocate: <c>AWSTUNNEL_FUZZ_ALLOC_FACTOR</c> (default 64) times the
    /// frame limit. Protobuf turns wire bytes into objects (UTF-16 strings, one entry per repeated string
    /// or unknown field), so some amplification is inherent; the budget catches anything unbounded.
    /// </summary>
    public static readonly long AllocationBudgetPerFrame =
        (long)(double.TryParse(Environment.GetEnvironmentVariable("AWSTUNNEL_FUZZ_ALLOC_FACTOR"), out double factor) && factor > 0 ? factor : 64)
        * ProtocolLimits.MaxFrameSize;

    private static readonly TunnelMode[] Modes = [TunnelMode.Source, TunnelMode.Destination];

    public static DecodeStats Stats { get; } = new();

    static DecodeTarget()
    {
        // Type initialisation allocates once per process; keep it out of the per-frame budget.
        var warm = FrameEncoder.ToArray(Messages.Data(1, "SSH1", 1, ByteString.CopyFromUtf8("warm-up")));
        var buffer = new ReadOnlySequence<byte>(warm);
        FrameDecoder.TryReadFrame(ref buffer, out var message);
        MessageRules.CheckReceivedByProxy(message, TunnelMode.Source);
        MessageRules.CheckSentByProxy(message, TunnelMode.Destination);
        _ = message.CalculateSize();
        _ = message.Equals(message.Clone());
        _ = GC.GetAllocatedBytesForCurrentThread();
    }

    /// <summary>Runs one fuzz input; throws on a finding.</summary>
    public static void Run(ReadOnlyMemory<byte> input)
    {
        var (stream, chunks) = Chunking.Split(input);
        Stats.Inputs++;

        var reference = DecodeContiguous(stream);
        var viaPipe = DecodeThroughPipe(stream, chunks);
        var viaSegments = DecodeThroughSegments(stream, chunks);
        SameOutcome(reference, viaPipe);
        SameOutcome(reference, viaSegments);

        Stats.Frames += reference.Messages.Count;
        if (reference.End == StreamEnd.ProtocolError) Stats.ProtocolErrors++;
        if (reference.End == StreamEnd.Partial) Stats.PartialEnds++;
    }

    // ---- three ways of reassembling the stream -------------------------------------------

    private static DecodeOutcome DecodeContiguous(ReadOnlyMemory<byte> stream)
    {
        var messages = new List<Message>();
        var buffer = new ReadOnlySequence<byte>(stream);
        string? error = DrainFrames(ref buffer, messages);
        return Finish("contiguous", messages, error, buffer.Length);
    }

    /// <summary>What TunnelLink does: ReceiveAsync writes each WebSocket receive into the pipe
    /// (at most 16 KiB at a time), DispatchAsync reads, cuts frames and advances.</summary>
    private static DecodeOutcome DecodeThroughPipe(ReadOnlyMemory<byte> stream, int[] chunks)
    {
        var pipe = new Pipe(new PipeOptions(
            pauseWriterThreshold: 1024 * 1024, resumeWriterThreshold: 512 * 1024, useSynchronizationContext: false));
        var writer = pipe.Writer;
        var reader = pipe.Reader;
        var messages = new List<Message>();
        int offset = 0;

        foreach (int chunk in chunks)
        {
            int end = offset + chunk;
            do
            {
                var memory = writer.GetMemory(Chunking.TunnelLinkReceiveSize);
                int count = Math.Min(memory.Length, end - offset);
                stream.Slice(offset, count).CopyTo(memory);
                offset += count;
                writer.Advance(count);
                var flush = writer.FlushAsync();
                if (!flush.IsCompleted)
                {
                    throw new PropertyViolationException(
                        "The pipe applied backpressure: more than 1 MiB is buffered although every whole frame was consumed.");
                }

                flush.GetAwaiter().GetResult();
                if (!reader.TryRead(out var read))
                {
                    if (count > 0)
                    {
                        throw new PropertyViolationException($"The pipe had {count} new bytes but nothing to read.");
                    }

                    continue;
                }

                var buffer = read.Buffer;
                string? error = DrainFrames(ref buffer, messages);
                if (error is not null)
                {
                    reader.Complete();
                    writer.Complete();
                    return Finish("pipe", messages, error, 0);
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
            }
            while (offset < end);
        }

        writer.Complete();
        long leftOver = 0;
        if (reader.TryRead(out var last))
        {
            var buffer = last.Buffer;
            string? error = DrainFrames(ref buffer, messages);
            if (error is not null)
            {
                throw new PropertyViolationException("A protocol error appeared only after the writer completed, with no new bytes.");
            }

            if (!last.IsCompleted)
            {
                throw new PropertyViolationException("The pipe did not report completion after the writer completed.");
            }

            leftOver = buffer.Length;
            reader.AdvanceTo(buffer.End);
        }

        reader.Complete();
        return Finish("pipe", messages, null, leftOver);
    }

    /// <summary>Each receive becomes its own segment (empty ones included) appended to one growing
    /// chain; the decoder always sees every unconsumed byte across the segment boundaries.</summary>
    private static DecodeOutcome DecodeThroughSegments(ReadOnlyMemory<byte> stream, int[] chunks)
    {
        var messages = new List<Message>();
        BufferSegment? first = null;
        BufferSegment? last = null;
        SequencePosition start = default;
        int offset = 0;
        var buffer = ReadOnlySequence<byte>.Empty;

        foreach (int chunk in chunks)
        {
            var piece = stream.Slice(offset, chunk);
            offset += chunk;
            if (last is null)
            {
                first = last = new BufferSegment(piece, 0);
                start = new SequencePosition(first, 0);
            }
            else
            {
                last = last.Append(piece);
            }

            buffer = new ReadOnlySequence<byte>((BufferSegment)start.GetObject()!, start.GetInteger(), last, last.Memory.Length);
            string? error = DrainFrames(ref buffer, messages);
            if (error is not null)
            {
                return Finish("segments", messages, error, 0);
            }

            start = buffer.Start;
        }

        return Finish("segments", messages, null, buffer.Length);
    }

    private static DecodeOutcome Finish(string path, List<Message> messages, string? error, long leftOver) =>
        new(path, messages, error is not null ? StreamEnd.ProtocolError : leftOver > 0 ? StreamEnd.Partial : StreamEnd.Clean, leftOver, error);

    // ---- one pass of DispatchAsync's inner loop, with the per-frame properties ----------

    /// <summary>Cuts every whole frame out of <paramref name="buffer"/>; returns the protocol error, if any.</summary>
    private static string? DrainFrames(ref ReadOnlySequence<byte> buffer, List<Message> sink)
    {
        long bound = buffer.Length / ProtocolLimits.LengthPrefixSize + 1;
        for (long iteration = 0; ; iteration++)
        {
            if (iteration > bound)
            {
                throw new PropertyViolationException($"More than {bound} frames out of {buffer.Length} bytes: the decoder is not making progress.");
            }

            var before = buffer;
            int prefix = before.Length >= ProtocolLimits.LengthPrefixSize ? ReadPrefix(before) : -1;
            PooledAgreement.Check(before);
            long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            bool complete;
            Message message;
            try
            {
                complete = FrameDecoder.TryReadFrame(ref buffer, out message);
            }
            catch (TunnelProtocolException ex)
            {
                CheckRefusal(ex, before, prefix);
                return ex.Message;
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            if (!complete)
            {
                if (!buffer.Start.Equals(before.Start) || buffer.Length != before.Length)
                {
                    throw new PropertyViolationException("TryReadFrame returned false but moved the buffer.");
                }

                if (prefix > ProtocolLimits.MaxMessageSize)
                {
                    throw new PropertyViolationException($"A length prefix of {prefix} (over the maximum) was waited on instead of refused.");
                }

                if (prefix >= 0 && before.Length >= ProtocolLimits.LengthPrefixSize + prefix)
                {
                    throw new PropertyViolationException($"TryReadFrame returned false with the whole {prefix}-byte frame buffered.");
                }

                return null;
            }

            long consumed = before.Length - buffer.Length;
            if (prefix < 0 || consumed != ProtocolLimits.LengthPrefixSize + prefix || consumed > ProtocolLimits.MaxFrameSize)
            {
                throw new PropertyViolationException($"TryReadFrame consumed {consumed} bytes for a frame whose prefix says {prefix}.");
            }

            if (before.GetOffset(buffer.Start) - before.GetOffset(before.Start) != consumed)
            {
                throw new PropertyViolationException("TryReadFrame left the buffer somewhere other than just after the frame.");
            }

            if (message is null)
            {
                throw new PropertyViolationException("TryReadFrame returned true with a null message.");
            }

            if (allocated > AllocationBudgetPerFrame)
            {
                throw new PropertyViolationException(
                    $"Decoding one {consumed}-byte frame allocated {allocated} bytes, over the budget of {AllocationBudgetPerFrame}.");
            }

            if (allocated > Stats.MaxAllocatedPerFrame)
            {
                Stats.MaxAllocatedPerFrame = allocated;
                Stats.MaxAllocatedFrameBytes = consumed;
            }

            CheckMessage(message);
            sink.Add(message);
        }
    }

    private static int ReadPrefix(ReadOnlySequence<byte> buffer)
    {
        Span<byte> prefix = stackalloc byte[ProtocolLimits.LengthPrefixSize];
        buffer.Slice(0, ProtocolLimits.LengthPrefixSize).CopyTo(prefix);
        return BinaryPrimitives.ReadUInt16BigEndian(prefix);
    }

    private static void CheckRefusal(TunnelProtocolException ex, ReadOnlySequence<byte> before, int prefix)
    {
        if (string.IsNullOrWhiteSpace(ex.Message))
        {
            throw new PropertyViolationException("TunnelProtocolException without a message.");
        }

        if (prefix < 0)
        {
            throw new PropertyViolationException($"Refused a buffer of {before.Length} bytes, shorter than a length prefix: {ex.Message}");
        }

        if (prefix > ProtocolLimits.MaxMessageSize)
        {
            return; // the prefix alone is enough to refuse
        }

        if (before.Length < ProtocolLimits.LengthPrefixSize + prefix)
        {
            throw new PropertyViolationException($"Refused a {prefix}-byte frame before its body was in: {ex.Message}");
        }

        if (ex.InnerException is null && ex.Message.Contains("non-canonical", StringComparison.Ordinal))
        {
            return; // a well-formed body whose canonical re-encoding would not fit a frame
        }

        if (ex.InnerException is not InvalidProtocolBufferException)
        {
            throw new PropertyViolationException(
                $"A refused body should wrap InvalidProtocolBufferException, not {ex.InnerException?.GetType().Name ?? "nothing"}: {ex.Message}");
        }
    }

    // ---- per-message properties ------------------------------------------------------------

    private static void CheckMessage(Message message)
    {
        int size = message.CalculateSize();
        if (size > ProtocolLimits.MaxMessageSize)
        {
            throw new PropertyViolationException(
                $"A decoded {message.Type} message re-encodes to {size} bytes, over the frame limit of {ProtocolLimits.MaxMessageSize}: " +
                "forwarding it (FrameEncoder.Write) would throw.");
        }

        // Re-encoding, as LocalTunnelService does when it forwards a message, gives back an equal message.
        var frame = FrameEncoder.ToArray(message);
        var again = new ReadOnlySequence<byte>(frame);
        if (!FrameDecoder.TryReadFrame(ref again, out var copy) || !again.IsEmpty || !copy.Equals(message))
        {
            throw new PropertyViolationException($"A decoded {message.Type} message does not survive re-encoding.");
        }

        foreach (var mode in Modes)
        {
            var received = MessageRules.CheckReceivedByProxy(message, mode);
            Expect(received, ModelReceived(message, mode), message, $"CheckReceivedByProxy({mode})");
            if (MessageRules.CheckReceivedByProxy(message, mode) != received)
            {
                throw new PropertyViolationException("CheckReceivedByProxy is not deterministic.");
            }

            var sent = MessageRules.CheckSentByProxy(message, mode);
            Expect(sent, ModelSent(message, mode), message, $"CheckSentByProxy({mode})");
            Count(received);
        }
    }

    private static void Count(MessageCheck check)
    {
        switch (check.Outcome)
        {
            case MessageOutcome.Accept: Stats.Accepted++; break;
            case MessageOutcome.Ignore: Stats.Ignored++; break;
            default: Stats.Violations++; break;
        }
    }

    private static void Expect(MessageCheck actual, MessageOutcome expected, Message message, string rule)
    {
        if (!Enum.IsDefined(actual.Outcome))
        {
            throw new PropertyViolationException($"{rule} returned an undefined outcome {(int)actual.Outcome}.");
        }

        if (actual.Outcome != expected)
        {
            throw new PropertyViolationException(
                $"{rule} said {actual.Outcome} ({actual.Reason}) where the rules say {expected}, for type {(int)message.Type}, " +
                $"stream {message.StreamId}, ignorable {message.Ignorable}, payload {message.Payload.Length} bytes.");
        }

        if (actual.IsAccepted != (actual.Reason is null) || (actual.Reason is not null && actual.Reason.Trim().Length == 0))
        {
            throw new PropertyViolationException($"{rule}: {actual.Outcome} must come with a reason exactly when it is not Accept.");
        }
    }

    // The protocol's rules, written out independently of MessageRules (PROTOCOL.md / issue 6).
    private static MessageOutcome ModelCommon(Message m)
    {
        int type = (int)m.Type;
        if (type == 0) return MessageOutcome.Violation;
        if (type < 1 || type > 7) return m.Ignorable ? MessageOutcome.Ignore : MessageOutcome.Violation;
        bool streamBound = type is 1 or 2 or 3 or 6 or 7;
        if (streamBound && m.StreamId == 0) return MessageOutcome.Violation;
        if (m.Payload.Length > ProtocolLimits.MaxPayloadSize) return MessageOutcome.Violation;
        return MessageOutcome.Accept;
    }

    private static MessageOutcome ModelReceived(Message m, TunnelMode receiver)
    {
        var common = ModelCommon(m);
        if (common != MessageOutcome.Accept) return common;
        bool starts = m.Type is Message.Types.Type.StreamStart or Message.Types.Type.ConnectionStart;
        return receiver == TunnelMode.Source && starts ? MessageOutcome.Violation : MessageOutcome.Accept;
    }

    private static MessageOutcome ModelSent(Message m, TunnelMode sender)
    {
        var common = ModelCommon(m);
        if (common != MessageOutcome.Accept) return common;
        if (m.Type is Message.Types.Type.ServiceIds or Message.Types.Type.SessionReset) return MessageOutcome.Violation;
        bool starts = m.Type is Message.Types.Type.StreamStart or Message.Types.Type.ConnectionStart;
        return sender == TunnelMode.Destination && starts ? MessageOutcome.Violation : MessageOutcome.Accept;
    }

    // ---- chunking independence -------------------------------------------------------------

    private static void SameOutcome(DecodeOutcome expected, DecodeOutcome actual)
    {
        if (actual.Messages.Count != expected.Messages.Count || actual.End != expected.End ||
            (expected.End == StreamEnd.Partial && actual.LeftOver != expected.LeftOver))
        {
            throw new PropertyViolationException(
                $"Chunking changed the result: {expected.Path} gave {expected.Messages.Count} frames then {expected.End} ({expected.LeftOver} left, {expected.Error}); " +
                $"{actual.Path} gave {actual.Messages.Count} frames then {actual.End} ({actual.LeftOver} left, {actual.Error}).");
        }

        for (int i = 0; i < expected.Messages.Count; i++)
        {
            if (!expected.Messages[i].Equals(actual.Messages[i]))
            {
                throw new PropertyViolationException($"Chunking changed frame {i}: {expected.Path} and {actual.Path} decoded different messages.");
            }
        }
    }
}
