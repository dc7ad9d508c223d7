using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Tunnel;
using AwsTunnel.Tests.Support;
using Google.Protobuf;

namespace AwsTunnel.Tests.Engine;

/// <summary>
/// A destination answers with the connection ids its source used, whatever the link's version:
/// the reference source sends connection id 1 on a V2 link too and drops DATA that comes back with 0.
/// </summary>
public class ConnectionIdMirrorTests
{
    [Theory]
    [InlineData(Subprotocols.V2, 1u)]
    [InlineData(Subprotocols.V2, 0u)]
    [InlineData(Subprotocols.V3, 1u)]
    [InlineData(Subprotocols.V3, 0u)]
    public async Task A_destination_answers_with_the_connection_id_of_the_stream_start(string subprotocol, uint connectionId)
    {
        await using var echo = new EchoServer();
        await using var service = new ScriptedService(subprotocol);
        await using var destination = new TunnelClient(new TunnelOptions
        {
            Mode = TunnelMode.Destination,
            ServiceUri = service.Endpoint,
            AccessToken = "scripted-token",
            Services = ServiceMapping.ParseList($"SSH1=127.0.0.1:{echo.Port}", "test"),
            Settings = TunnelHarness.FastSettings,
        });
        var starting = destination.StartAsync();
        await service.SendAsync(Messages.ServiceIds(new[] { "SSH1" }));
        await starting;

        await service.SendAsync(Messages.StreamStart(3, "SSH1", connectionId));
        await service.SendAsync(Messages.Data(3, "SSH1", connectionId, ByteString.CopyFromUtf8("ping")));

        var echoed = await service.ReceiveUntilAsync(m => m.Type == Message.Types.Type.Data);
        Assert.Equal(connectionId, echoed.ConnectionId);
        Assert.Equal("ping", echoed.Payload.ToStringUtf8());
    }
}
