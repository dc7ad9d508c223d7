namespace AwsTunnel.Engine.Service;

/// <summary>
/// Where the local tunneling service publishes the MQTT notifications AWS IoT would send a
/// thing when a tunnel is opened for it: an embedded broker it runs, or an external broker.
/// </summary>
public interface INotificationPublisher : IAsyncDisposable
{
    /// <summary>The broker devices subscribe to, as a URI (mqtt://127.0.0.1:PORT for the embedded one).</summary>
    string BrokerUri { get; }

    /// <summary>Publishes one message at QoS 1.</summary>
    Task PublishAsync(string topic, byte[] payload, CancellationToken cancellationToken);
}
