using AwsTunnel.Engine.Agent;

namespace AwsTunnel.Tests.Agent;

/// <summary>An MQTT broker a test runs on loopback: the agent connects to it, the test publishes notifications through it.</summary>
public interface ITestBroker : IAsyncDisposable
{
    /// <summary>Where the agent connects.</summary>
    BrokerAddress Address { get; }

    /// <summary>The agent's options for this broker (credentials, trust), on top of <paramref name="options"/>.</summary>
    AgentOptions Configure(AgentOptions options);

    /// <summary>Publishes <paramref name="payload"/> on <paramref name="topic"/> at QoS 1, as AWS IoT would.</summary>
    Task PublishAsync(string topic, string payload);

    /// <summary>Takes the broker away (its connections drop).</summary>
    Task StopAsync();

    /// <summary>Brings it back on the same address.</summary>
    Task StartAsync();
}
