using System.Text;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Tunnel;
using AwsTunnel.Tests.Support;
using Google.Protobuf;

namespace AwsTunnel.Tests.Engine;

/// <summary>
/// V1's wire form carries no service ids: with <c>-y V1</c> (or a V1 link) every message we send
/// has an empty service id, as the reference proxy sends, while a V3 peer still gets its ids.
/// </summary>
public class V1WireFormTests
{
    [Fact]
    public async Task A_source_told_the_destination_is_V1_sends_STREAM_START_DATA_and_STREAM_RESET_without_service_or_connection_ids()
    {
        await using var service = new ScriptedService();
        await using var source = new TunnelClient(SourceOptions(service, ProtocolVersion.V1));
        var starting = source.StartAsync();
        await service.SendAsync(Messages.ServiceIds(new[] { "SSH1" }));
        await starting;

        var client = await TcpProbe.ConnectAsync(source.Ports["SSH1"]);
        await client.SendAsync(Encoding.ASCII.GetBytes("hello"));

        var start = await service.ReceiveUntilAsync(m => m.Type == Message.Types.Type.StreamStart);
        Assert.Equal(string.Empty, start.ServiceId);
        Assert.Equal(0u, start.ConnectionId);
        var data = await service.ReceiveUntilAsync(m => m.Type == Message.Types.Type.Data);
        Assert.Equal(string.Empty, data.ServiceId);
        Assert.Equal(0u, data.ConnectionId);
        Assert.Equal(start.StreamId, data.StreamId);
        Assert.Equal("hello", data.Payload.ToStringUtf8());

        client.Dispose();
        var reset = await service.ReceiveUntilAsync(m => m.Type == Message.Types.Type.StreamReset);
        Assert.Equal(string.Empty, reset.ServiceId);
        Assert.Equal(start.StreamId, reset.StreamId);
    }

    [Fact]
    public async Task A_V1_peers_replies_reach_the_connection_although_they_name_no_service()
    {
        await using var service = new ScriptedService();
        await using var source = new TunnelClient(SourceOptions(service, ProtocolVersion.V1));
        var starting = source.StartAsync();
        await service.SendAsync(Messages.ServiceIds(new[] { "SSH1" }));
        await starting;

        using var client = await TcpProbe.ConnectAsync(source.Ports["SSH1"]);
        var start = await service.ReceiveUntilAsync(m => m.Type == Message.Types.Type.StreamStart);
        await service.SendAsync(Messages.Data(start.StreamId, string.Empty, 0, ByteString.CopyFromUtf8("reply")));

        var buffer = new byte[5];
        int read = 0;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (read < buffer.Length)
        {
            read += await client.ReceiveAsync(buffer.AsMemory(read), deadline.Token);
        }

        Assert.Equal("reply", Encoding.ASCII.GetString(buffer));
    }

    [Fact]
    public async Task A_V3_source_keeps_service_ids_and_connection_ids()
    {
        await using var service = new ScriptedService();
        await using var source = new TunnelClient(SourceOptions(service, ProtocolVersion.V3));
        var starting = source.StartAsync();
        await service.SendAsync(Messages.ServiceIds(new[] { "SSH1" }));
        await starting;

        using var client = await TcpProbe.ConnectAsync(source.Ports["SSH1"]);
        await client.SendAsync(Encoding.ASCII.GetBytes("hello"));

        var start = await service.ReceiveUntilAsync(m => m.Type == Message.Types.Type.StreamStart);
        Assert.Equal("SSH1", start.ServiceId);
        Assert.Equal(1u, start.ConnectionId);
        var data = await service.ReceiveUntilAsync(m => m.Type == Message.Types.Type.Data);
        Assert.Equal("SSH1", data.ServiceId);
        Assert.Equal(1u, data.ConnectionId);
    }

    [Fact]
    public async Task A_destination_told_the_source_is_V1_answers_without_service_ids()
    {
        await using var echo = new EchoServer();
        await using var service = new ScriptedService();
        await using var destination = new TunnelClient(new TunnelOptions
        {
            Mode = TunnelMode.Destination,
            ServiceUri = service.Endpoint,
            AccessToken = "scripted-token",
            Services = ServiceMapping.ParseList($"SSH1=127.0.0.1:{echo.Port}", "test"),
            DestinationClientType = ProtocolVersion.V1,
            Settings = TunnelHarness.FastSettings,
        });
        var starting = destination.StartAsync();
        await service.SendAsync(Messages.ServiceIds(new[] { "SSH1" }));
        await starting;

        await service.SendAsync(Messages.StreamStart(4, string.Empty, 0));
        await service.SendAsync(Messages.Data(4, string.Empty, 0, ByteString.CopyFromUtf8("ping")));

        var echoed = await service.ReceiveUntilAsync(m => m.Type == Message.Types.Type.Data);
        Assert.Equal(string.Empty, echoed.ServiceId);
        Assert.Equal(0u, echoed.ConnectionId);
        Assert.Equal(4, echoed.StreamId);
        Assert.Equal("ping", echoed.Payload.ToStringUtf8());
    }

    [Fact]
    public async Task A_V1_link_sends_no_service_ids_even_for_a_named_mapping()
    {
        await using var service = new ScriptedService(Subprotocols.V1);
        await using var source = new TunnelClient(SourceOptions(service, ProtocolVersion.V3));
        await source.StartAsync();

        using var client = await TcpProbe.ConnectAsync(source.Ports[""]);
        await client.SendAsync(Encoding.ASCII.GetBytes("v1"));

        var start = await service.ReceiveUntilAsync(m => m.Type == Message.Types.Type.StreamStart);
        Assert.Equal(string.Empty, start.ServiceId);
        var data = await service.ReceiveUntilAsync(m => m.Type == Message.Types.Type.Data);
        Assert.Equal(string.Empty, data.ServiceId);
    }

    private static TunnelOptions SourceOptions(ScriptedService service, ProtocolVersion destinationClientType, string mapping = "SSH1=0") => new()
    {
        Mode = TunnelMode.Source,
        ServiceUri = service.Endpoint,
        AccessToken = "scripted-token",
        Services = ServiceMapping.ParseList(mapping, "test"),
        DestinationClientType = destinationClientType,
        Settings = TunnelHarness.FastSettings,
    };
}
