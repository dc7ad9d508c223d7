using System.Net.WebSockets;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Tunnel;
using AwsTunnel.Tests.Support;
using Google.Protobuf;

namespace AwsTunnel.Tests.Engine;

/// <summary>
/// Each protocol violation from the service side has a defined reaction: a log line naming
/// it, a reset of the affected stream or the end of the WebSocket, the session otherwise alive.
/// </summary>
public sealed class ProtocolViolationTests : IAsyncLifetime
{
    private readonly ScriptedService _service = new();
    private readonly EchoServer _echo = new();
    private readonly LogCapture _logs = new();
    private TunnelClient _destination = null!;

    public async Task InitializeAsync()
    {
        _destination = new TunnelClient(new TunnelOptions
        {
            Mode = TunnelMode.Destination,
            ServiceUri = _service.Endpoint,
            AccessToken = "scripted-token",
            Services = ServiceMapping.ParseList($"SSH1=127.0.0.1:{_echo.Port}", "test"),
            Settings = TunnelHarness.FastSettings with { WebSocketRetryDelayMs = 60000 },
            LoggerFactory = _logs,
        });
        var starting = _destination.StartAsync();
        await _service.SendAsync(Messages.ServiceIds(new[] { "SSH1" }));
        await starting;
    }

    public async Task DisposeAsync()
    {
        await _destination.DisposeAsync();
        await _service.DisposeAsync();
        await _echo.DisposeAsync();
    }

    [Fact]
    public async Task Type_zero_is_logged_and_the_session_stays_alive()
    {
        await _service.SendAsync(new Message { Type = Message.Types.Type.Unknown, StreamId = 1 });

        await AssertStillRelaysAsync(streamId: 1);
        await _logs.WaitForLineAsync(l => l.Contains("type is 0"), "the violation to be logged", 30000);
    }

    [Fact]
    public async Task Stream_id_zero_is_logged_and_the_session_stays_alive()
    {
        await _service.SendAsync(new Message { Type = Message.Types.Type.Data, StreamId = 0, ServiceId = "SSH1", Payload = ByteString.CopyFromUtf8("x") });

        await AssertStillRelaysAsync(streamId: 1);
        await _logs.WaitForLineAsync(l => l.Contains("stream id 0"), "the violation to be logged", 30000);
    }

    [Fact]
    public async Task An_unknown_type_marked_ignorable_is_skipped_silently()
    {
        await _service.SendAsync(new Message { Type = (Message.Types.Type)42, Ignorable = true });

        await AssertStillRelaysAsync(streamId: 1);
        Assert.DoesNotContain(_logs.Lines, l => l.StartsWith("Warning") && l.Contains("42"));
    }

    [Fact]
    public async Task An_unknown_type_not_marked_ignorable_is_logged_as_a_violation()
    {
        await _service.SendAsync(new Message { Type = (Message.Types.Type)42 });

        await AssertStillRelaysAsync(streamId: 1);
        await _logs.WaitForLineAsync(l => l.StartsWith("Warning") && l.Contains("Unknown message type 42"), "the violation to be logged", 30000);
    }

    [Fact]
    public async Task A_payload_over_63_KiB_resets_its_stream_and_the_next_stream_works()
    {
        await _service.SendAsync(Messages.StreamStart(1, "SSH1", 1));
        await _service.SendAsync(Messages.Data(1, "SSH1", 1, ByteString.CopyFrom(new byte[ProtocolLimits.MaxPayloadSize + 1])));

        var reset = await _service.ReceiveUntilAsync(m => m.Type == Message.Types.Type.StreamReset);
        Assert.Equal(1, reset.StreamId);
        await _logs.WaitForLineAsync(l => l.Contains("exceeds the protocol maximum of 64512"), "the violation to be logged", 30000);
        await AssertStillRelaysAsync(streamId: 2);
    }

    [Fact]
    public async Task A_duplicate_connection_id_is_answered_with_a_connection_reset()
    {
        await _service.SendAsync(Messages.StreamStart(1, "SSH1", 1));
        await _service.SendAsync(Messages.ConnectionStart(1, "SSH1", 2), Messages.ConnectionStart(1, "SSH1", 2));

        var reset = await _service.ReceiveUntilAsync(m => m.Type == Message.Types.Type.ConnectionReset);
        Assert.Equal(2u, reset.ConnectionId);
        await _logs.WaitForLineAsync(l => l.Contains("repeats connection id 2"), "the violation to be logged", 30000);
    }

    [Fact]
    public async Task Data_for_a_stale_stream_is_dropped()
    {
        await _service.SendAsync(Messages.StreamStart(5, "SSH1", 1));
        await _service.SendAsync(Messages.Data(4, "SSH1", 1, ByteString.CopyFromUtf8("stale")));
        await _service.SendAsync(Messages.Data(5, "SSH1", 1, ByteString.CopyFromUtf8("fresh")));

        var echoed = await _service.ReceiveUntilAsync(m => m.Type == Message.Types.Type.Data);
        Assert.Equal("fresh", echoed.Payload.ToStringUtf8());
    }

    [Fact]
    public async Task A_message_with_unknown_fields_is_still_processed()
    {
        var frame = Messages.Data(1, "SSH1", 1, ByteString.CopyFromUtf8("known"));
        var body = frame.ToByteArray().Concat(new byte[] { 0x48, 0x01 }).ToArray(); // field 9, varint 1
        await _service.SendAsync(Messages.StreamStart(1, "SSH1", 1));
        await _service.SendRawAsync(new[] { (byte)(body.Length >> 8), (byte)body.Length }.Concat(body).ToArray());

        var echoed = await _service.ReceiveUntilAsync(m => m.Type == Message.Types.Type.Data);
        Assert.Equal("known", echoed.Payload.ToStringUtf8());
    }

    [Fact]
    public async Task A_text_frame_ends_the_WebSocket_naming_the_violation()
    {
        await _service.SendRawAsync("hello"u8.ToArray(), WebSocketMessageType.Text);

        await Eventually.TrueAsync(() => _destination.State == TunnelState.Reconnecting, "the session to reconnect");
        await _logs.WaitForLineAsync(l => l.Contains("text WebSocket frame"), "the violation to be logged", 30000);
    }

    [Fact]
    public async Task A_length_prefix_over_the_maximum_ends_the_WebSocket_naming_the_violation()
    {
        await _service.SendRawAsync(new byte[] { 0xFF, 0xFF, 0x08, 0x01 });

        await Eventually.TrueAsync(() => _destination.State == TunnelState.Reconnecting, "the session to reconnect");
        await _logs.WaitForLineAsync(l => l.Contains("length prefix 65535 exceeds"), "the violation to be logged", 30000);
    }

    [Fact]
    public async Task A_truncated_protobuf_ends_the_WebSocket_naming_the_violation()
    {
        await _service.SendRawAsync(new byte[] { 0x00, 0x03, 0x22, 0x10, 0x41 });

        await Eventually.TrueAsync(() => _destination.State == TunnelState.Reconnecting, "the session to reconnect");
        await _logs.WaitForLineAsync(l => l.Contains("Malformed tunneling message"), "the violation to be logged", 30000);
    }

    [Fact]
    public async Task Service_ids_that_change_mid_session_end_the_session_with_a_mismatch()
    {
        await _service.SendAsync(Messages.ServiceIds(new[] { "SSH1", "RDP" }));

        var end = await _destination.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(TunnelEndReason.ServiceMismatch, end.Reason);
        Assert.Contains("RDP", end.Message);
    }

    private async Task AssertStillRelaysAsync(int streamId)
    {
        await _service.SendAsync(Messages.StreamStart(streamId, "SSH1", 1));
        await _service.SendAsync(Messages.Data(streamId, "SSH1", 1, ByteString.CopyFromUtf8("still alive")));
        var echoed = await _service.ReceiveUntilAsync(m => m.Type == Message.Types.Type.Data);
        Assert.Equal("still alive", echoed.Payload.ToStringUtf8());
        Assert.Equal(streamId, echoed.StreamId);
    }
}

/// <summary>A source must never be told to start streams.</summary>
public sealed class SourceViolationTests
{
    [Fact]
    public async Task A_stream_start_sent_to_a_source_is_logged_and_ignored()
    {
        await using var service = new ScriptedService();
        var logs = new LogCapture();
        await using var source = new TunnelClient(new TunnelOptions
        {
            Mode = TunnelMode.Source,
            ServiceUri = service.Endpoint,
            AccessToken = "scripted-token",
            Services = ServiceMapping.ParseList("SSH1=0", "test"),
            LoggerFactory = logs,
        });
        var starting = source.StartAsync();
        await service.SendAsync(Messages.ServiceIds(new[] { "SSH1" }));
        await starting;

        await service.SendAsync(Messages.StreamStart(7, "SSH1", 1));
        using var client = await TcpProbe.ConnectAsync(source.Ports["SSH1"]);

        var start = await service.ReceiveUntilAsync(m => m.Type == Message.Types.Type.StreamStart);
        Assert.Equal("SSH1", start.ServiceId);
        // The two directions are independent: the source's own STREAM_START may reach the
        // service before the source has read the one it was sent.
        await Eventually.TrueAsync(() => logs.Lines.Any(l => l.Contains("was sent to a source")), "the violation to be logged", 5000);
        Assert.DoesNotContain(source.Connections(), c => c.StreamId == 7);
    }
}

/// <summary>Recovery from stream state the two ends disagree about.</summary>
public sealed class StreamDisagreementTests
{
    [Fact]
    public async Task A_connection_start_for_a_stream_the_destination_does_not_know_is_answered_with_a_stream_reset()
    {
        await using var service = new ScriptedService();
        await using var echo = new EchoServer();
        await using var destination = new TunnelClient(new TunnelOptions
        {
            Mode = TunnelMode.Destination,
            ServiceUri = service.Endpoint,
            AccessToken = "scripted-token",
            Services = ServiceMapping.ParseList($"SSH1=127.0.0.1:{echo.Port}", "test"),
        });
        var starting = destination.StartAsync();
        await service.SendAsync(Messages.ServiceIds(new[] { "SSH1" }));
        await starting;

        await service.SendAsync(Messages.ConnectionStart(51, "SSH1", 4));

        var reset = await service.ReceiveUntilAsync(m => m.Type == Message.Types.Type.StreamReset);
        Assert.Equal(51, reset.StreamId);
    }
}
