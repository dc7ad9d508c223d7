using System.Net;
using AwsTunnel.Engine.Agent;
using AwsTunnel.Tests.Support;
using MQTTnet;
using MQTTnet.Server;

namespace AwsTunnel.Tests.Agent;

/// <summary>An MQTTnet.Server broker on a free loopback port, plain MQTT.</summary>
public sealed class EmbeddedBroker : ITestBroker
{
    private readonly int _port;
    private MqttServer? _server;

    private EmbeddedBroker(int port) => _port = port;

    public BrokerAddress Address => new("127.0.0.1", _port, UseTls: false);

    public static async Task<EmbeddedBroker> StartNewAsync()
    {
        var broker = new EmbeddedBroker(TestPorts.FreeOutsideEphemeralRange());
        await broker.StartAsync();
        return broker;
    }

    public AgentOptions Configure(AgentOptions options) => options with { Broker = Address };

    public Task PublishAsync(string topic, string payload) =>
        MqttPublisher.PublishAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", _port).WithClientId("test-publisher").Build(), topic, payload);

    public async Task StartAsync()
    {
        var options = new MqttServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(IPAddress.Loopback)
            .WithDefaultEndpointBoundIPV6Address(IPAddress.None)
            .WithDefaultEndpointPort(_port)
            .Build();
        _server = new MqttServerFactory().CreateMqttServer(options);
        await _server.StartAsync();
    }

    public async Task StopAsync()
    {
        if (_server is { } server)
        {
            _server = null;
            await server.StopAsync();
            server.Dispose();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
