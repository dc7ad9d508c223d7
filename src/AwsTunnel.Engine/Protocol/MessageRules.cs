namespace AwsTunnel.Engine.Protocol;

/// <summary>What to do with a received message.</summary>
public enum MessageOutcome
{
    /// <summary>Valid: process it.</summary>
    Accept,
    /// <summary>An unknown type marked ignorable: skip it silently.</summary>
    Ignore,
    /// <summary>Breaks the protocol: <see cref="MessageCheck.Reason"/> says how.</summary>
    Violation,
}

/// <summary>The verdict on one message.</summary>
public readonly record struct MessageCheck(MessageOutcome Outcome, string? Reason)
{
    public static readonly MessageCheck Accepted = new(MessageOutcome.Accept, null);
    public bool IsAccepted => Outcome == MessageOutcome.Accept;
    internal static MessageCheck Violates(string reason) => new(MessageOutcome.Violation, reason);
}

/// <summary>
/// The message rules of the protocol: which types exist, which carry a stream id, who may
/// send what, and how large a payload may be.
/// </summary>
public static class MessageRules
{
    /// <summary>Checks a message a local proxy in <paramref name="receiver"/> mode received from the service.</summary>
    public static MessageCheck CheckReceivedByProxy(Message message, TunnelMode receiver)
    {
        var common = CheckCommon(message);
        if (!common.IsAccepted)
        {
            return common;
        }

        if (receiver == TunnelMode.Source &&
            message.Type is Message.Types.Type.StreamStart or Message.Types.Type.ConnectionStart)
        {
            return MessageCheck.Violates($"{message.Type} was sent to a source; only a source may start streams and connections.");
        }

        return MessageCheck.Accepted;
    }

    /// <summary>Checks a message the service received from a local proxy in <paramref name="sender"/> mode.</summary>
    public static MessageCheck CheckSentByProxy(Message message, TunnelMode sender)
    {
        var common = CheckCommon(message);
        if (!common.IsAccepted)
        {
            return common;
        }

        switch (message.Type)
        {
            case Message.Types.Type.ServiceIds:
            case Message.Types.Type.SessionReset:
                return MessageCheck.Violates($"{message.Type} may only be sent by the service, not by a local proxy.");
            case Message.Types.Type.StreamStart:
            case Message.Types.Type.ConnectionStart:
                return sender == TunnelMode.Destination
                    ? MessageCheck.Violates($"{message.Type} may only be sent by a source, not by a destination.")
                    : MessageCheck.Accepted;
            default:
                return MessageCheck.Accepted;
        }
    }

    /// <summary>True for the types that belong to a stream and so need a non-zero stream id.</summary>
    public static bool IsStreamBound(Message.Types.Type type) => type is
        Message.Types.Type.Data or Message.Types.Type.StreamStart or Message.Types.Type.StreamReset or
        Message.Types.Type.ConnectionStart or Message.Types.Type.ConnectionReset;

    private static bool IsKnown(Message.Types.Type type) =>
        type >= Message.Types.Type.Data && type <= Message.Types.Type.ConnectionReset;

    private static MessageCheck CheckCommon(Message message)
    {
        if (message.Type == Message.Types.Type.Unknown)
        {
            return MessageCheck.Violates("Message type is 0 (UNKNOWN); every message must carry a type.");
        }

        if (!IsKnown(message.Type))
        {
            return message.Ignorable
                ? new MessageCheck(MessageOutcome.Ignore, $"Unknown message type {(int)message.Type} marked ignorable.")
                : MessageCheck.Violates($"Unknown message type {(int)message.Type} that is not marked ignorable.");
        }

        if (IsStreamBound(message.Type) && message.StreamId == 0)
        {
            return MessageCheck.Violates($"{message.Type} carries stream id 0; stream-bound messages need a non-zero stream id.");
        }

        if (message.Payload.Length > ProtocolLimits.MaxPayloadSize)
        {
            return MessageCheck.Violates(
                $"{message.Type} payload of {message.Payload.Length} bytes exceeds the protocol maximum of {ProtocolLimits.MaxPayloadSize} bytes.");
        }

        return MessageCheck.Accepted;
    }
}
