using MQTTnet;
using MQTTnet.Protocol;

namespace AwsTunnel.Tests.Agent;

/// <summary>A test's own MQTT client that publishes notifications (connects per publish, so it survives broker restarts).</summary>
internal static class MqttPublisher
{
    public static async Task PublishAsync(MqttClientOptions options, string topic, string payload)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await client.ConnectAsync(options, timeout.Token);
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build();
        var result = await client.PublishAsync(message, timeout.Token);
        Assert.True(result.IsSuccess, $"The test's publish to {topic} failed: {result.ReasonCode}");
        await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), timeout.Token);
    }
}
