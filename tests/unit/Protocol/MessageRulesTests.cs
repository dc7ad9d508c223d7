using AwsTunnel.Engine.Protocol;
using Google.Protobuf;
using Type = AwsTunnel.Engine.Protocol.Message.Types.Type;

namespace AwsTunnel.Tests.Protocol;

public class MessageRulesTests
{
    public static TheoryData<TunnelMode> Modes => new() { TunnelMode.Source, TunnelMode.Destination };

    public static TheoryData<Type, TunnelMode> StreamBoundTypesAndModes()
    {
        var data = new TheoryData<Type, TunnelMode>();
        foreach (var type in new[] { Type.Data, Type.StreamStart, Type.StreamReset, Type.ConnectionStart, Type.ConnectionReset })
        {
            data.Add(type, TunnelMode.Source);
            data.Add(type, TunnelMode.Destination);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void A_received_message_of_type_zero_is_a_violation(TunnelMode receiver)
    {
        var check = MessageRules.CheckReceivedByProxy(new Message { StreamId = 1 }, receiver);

        AssertViolation(check, "type");
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void A_sent_message_of_type_zero_is_a_violation(TunnelMode sender)
    {
        var check = MessageRules.CheckSentByProxy(new Message { StreamId = 1 }, sender);

        AssertViolation(check, "type");
    }

    [Fact]
    public void A_message_of_type_zero_is_a_violation_even_when_marked_ignorable()
    {
        var check = MessageRules.CheckReceivedByProxy(new Message { Ignorable = true }, TunnelMode.Destination);

        AssertViolation(check, "UNKNOWN");
    }

    [Theory]
    [MemberData(nameof(StreamBoundTypesAndModes))]
    public void A_received_stream_bound_message_with_stream_id_zero_is_a_violation(Type type, TunnelMode receiver)
    {
        var check = MessageRules.CheckReceivedByProxy(new Message { Type = type, StreamId = 0 }, receiver);

        AssertViolation(check, "stream id");
    }

    [Theory]
    [MemberData(nameof(StreamBoundTypesAndModes))]
    public void A_sent_stream_bound_message_with_stream_id_zero_is_a_violation(Type type, TunnelMode sender)
    {
        var check = MessageRules.CheckSentByProxy(new Message { Type = type, StreamId = 0 }, sender);

        AssertViolation(check, "stream id");
    }

    [Theory]
    [InlineData(Type.ServiceIds)]
    [InlineData(Type.SessionReset)]
    public void Session_level_messages_without_a_stream_id_are_accepted_from_the_service(Type type)
    {
        var check = MessageRules.CheckReceivedByProxy(new Message { Type = type }, TunnelMode.Source);

        Assert.Equal(MessageOutcome.Accept, check.Outcome);
    }

    [Theory]
    [InlineData(Type.StreamStart)]
    [InlineData(Type.ConnectionStart)]
    public void A_source_that_receives_a_start_message_sees_a_violation(Type type)
    {
        var check = MessageRules.CheckReceivedByProxy(new Message { Type = type, StreamId = 1, ServiceId = "SSH1", ConnectionId = 1 }, TunnelMode.Source);

        AssertViolation(check, type.ToString());
        Assert.Contains("source", check.Reason);
    }

    [Theory]
    [InlineData(Type.StreamStart)]
    [InlineData(Type.ConnectionStart)]
    public void A_destination_that_receives_a_start_message_accepts_it(Type type)
    {
        var check = MessageRules.CheckReceivedByProxy(new Message { Type = type, StreamId = 1, ServiceId = "SSH1", ConnectionId = 1 }, TunnelMode.Destination);

        Assert.Equal(MessageOutcome.Accept, check.Outcome);
        Assert.True(check.IsAccepted);
        Assert.Null(check.Reason);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void A_data_message_with_the_largest_payload_is_accepted(TunnelMode mode)
    {
        var message = Messages.Data(1, "SSH1", 1, FrameStreams.Payload(ProtocolLimits.MaxPayloadSize));

        Assert.True(MessageRules.CheckReceivedByProxy(message, mode).IsAccepted);
        Assert.True(MessageRules.CheckSentByProxy(message, mode).IsAccepted);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void A_received_payload_over_64512_bytes_is_a_violation(TunnelMode receiver)
    {
        var message = Messages.Data(1, "SSH1", 1, FrameStreams.Payload(ProtocolLimits.MaxPayloadSize + 1));

        var check = MessageRules.CheckReceivedByProxy(message, receiver);

        AssertViolation(check, "64513");
        Assert.Contains("64512", check.Reason);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void A_sent_payload_over_64512_bytes_is_a_violation(TunnelMode sender)
    {
        var message = Messages.Data(1, "SSH1", 1, FrameStreams.Payload(ProtocolLimits.MaxPayloadSize + 1));

        var check = MessageRules.CheckSentByProxy(message, sender);

        AssertViolation(check, "payload");
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void An_unknown_type_marked_ignorable_is_ignored(TunnelMode receiver)
    {
        var message = new Message { Type = (Type)42, StreamId = 1, Ignorable = true };

        var check = MessageRules.CheckReceivedByProxy(message, receiver);

        Assert.Equal(MessageOutcome.Ignore, check.Outcome);
        Assert.False(check.IsAccepted);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void An_unknown_type_not_marked_ignorable_is_a_violation(TunnelMode receiver)
    {
        var message = new Message { Type = (Type)42, StreamId = 1 };

        var check = MessageRules.CheckReceivedByProxy(message, receiver);

        AssertViolation(check, "42");
        Assert.Contains("ignorable", check.Reason);
    }

    [Fact]
    public void An_unknown_type_without_a_stream_id_marked_ignorable_is_still_ignored()
    {
        var check = MessageRules.CheckReceivedByProxy(new Message { Type = (Type)8, Ignorable = true }, TunnelMode.Source);

        Assert.Equal(MessageOutcome.Ignore, check.Outcome);
    }

    [Fact]
    public void An_unknown_type_decoded_from_the_wire_is_ignored_when_marked_ignorable()
    {
        // type = 42 (field 1 varint), streamId = 1, ignorable = true
        var body = new byte[] { 0x08, 0x2A, 0x10, 0x01, 0x18, 0x01 };
        var message = Message.Parser.ParseFrom(body);

        Assert.Equal(MessageOutcome.Ignore, MessageRules.CheckReceivedByProxy(message, TunnelMode.Destination).Outcome);
    }

    [Theory]
    [InlineData(Type.ServiceIds, TunnelMode.Source)]
    [InlineData(Type.ServiceIds, TunnelMode.Destination)]
    [InlineData(Type.SessionReset, TunnelMode.Source)]
    [InlineData(Type.SessionReset, TunnelMode.Destination)]
    public void A_proxy_that_sends_a_service_only_message_commits_a_violation(Type type, TunnelMode sender)
    {
        var check = MessageRules.CheckSentByProxy(new Message { Type = type }, sender);

        AssertViolation(check, type.ToString());
        Assert.Contains("service", check.Reason);
    }

    [Theory]
    [InlineData(Type.StreamStart)]
    [InlineData(Type.ConnectionStart)]
    public void A_destination_that_sends_a_start_message_commits_a_violation(Type type)
    {
        var check = MessageRules.CheckSentByProxy(new Message { Type = type, StreamId = 1, ServiceId = "SSH1", ConnectionId = 1 }, TunnelMode.Destination);

        AssertViolation(check, "destination");
    }

    [Theory]
    [InlineData(Type.StreamStart)]
    [InlineData(Type.ConnectionStart)]
    public void A_source_may_send_start_messages(Type type)
    {
        var check = MessageRules.CheckSentByProxy(new Message { Type = type, StreamId = 1, ServiceId = "SSH1", ConnectionId = 1 }, TunnelMode.Source);

        Assert.True(check.IsAccepted);
    }

    [Theory]
    [InlineData(Type.Data)]
    [InlineData(Type.StreamReset)]
    [InlineData(Type.ConnectionReset)]
    public void Data_and_reset_messages_with_a_stream_id_are_accepted_both_ways_in_both_modes(Type type)
    {
        var message = new Message { Type = type, StreamId = 5, ServiceId = "SSH1", ConnectionId = 1 };

        foreach (var mode in new[] { TunnelMode.Source, TunnelMode.Destination })
        {
            Assert.True(MessageRules.CheckReceivedByProxy(message, mode).IsAccepted);
            Assert.True(MessageRules.CheckSentByProxy(message, mode).IsAccepted);
        }
    }

    [Theory]
    [InlineData(Type.Unknown, false)]
    [InlineData(Type.Data, true)]
    [InlineData(Type.StreamStart, true)]
    [InlineData(Type.StreamReset, true)]
    [InlineData(Type.SessionReset, false)]
    [InlineData(Type.ServiceIds, false)]
    [InlineData(Type.ConnectionStart, true)]
    [InlineData(Type.ConnectionReset, true)]
    public void IsStreamBound_names_exactly_the_types_that_need_a_stream_id(Type type, bool expected)
    {
        Assert.Equal(expected, MessageRules.IsStreamBound(type));
    }

    private static void AssertViolation(MessageCheck check, string mentioned)
    {
        Assert.Equal(MessageOutcome.Violation, check.Outcome);
        Assert.False(check.IsAccepted);
        Assert.False(string.IsNullOrWhiteSpace(check.Reason));
        Assert.Contains(mentioned, check.Reason, StringComparison.OrdinalIgnoreCase);
    }
}
