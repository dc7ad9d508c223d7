using System.Net;
using System.Net.Sockets;
using MQTTnet;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace AwsTunnel.Engine.Service;

/// <summary>
/// An MQTT broker (MQTTnet.Server) run by the local tunneling service, plain MQTT on loopback:
/// agents subscribe to it, and the service injects tunnel notifications into it, so the
/// device side works offline exactly as against AWS IoT Core (minus the TLS).
/// </summary>
public sealed class EmbeddedNotificationBroker : INotificationPublisher
{
    private readonly MqttServer _server;
    private readonly object _gate = new();
    private readonly HashSet<string> _subscribed = new(StringComparer.Ordinal);
    private readonly List<(string Topic, TaskCompletionSource Waiter)> _waiters = new();

    private EmbeddedNotificationBroker(MqttServer server, IPAddress address, int port)
    {
        _server = server;
        Address = address;
        Port = port;
        _server.ClientSubscribedTopicAsync += OnSubscribed;
    }

    /// <summary>The address the broker listens on.</summary>
    public IPAddress Address { get; }

    /// <summary>The port the broker listens on.</summary>
    public int Port { get; }

    /// <inheritdoc />
    public string BrokerUri => $"mqtt://{(Address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{Address}]" : Address.ToString())}:{Port}";

    /// <summary>Starts a broker on <paramref name="address"/>:<paramref name="port"/> (0 = a free port).</summary>
    /// <exception cref="InvalidOperationException">the port is taken; the message names it.</exception>
    public static async Task<EmbeddedNotificationBroker> StartAsync(IPAddress address, int port, CancellationToken cancellationToken = default)
    {
        int chosen = port == 0 ? FreePort(address) : port;
        var builder = new MqttServerOptionsBuilder().WithDefaultEndpoint().WithDefaultEndpointPort(chosen);
        builder = address.AddressFamily == AddressFamily.InterNetworkV6
            ? builder.WithDefaultEndpointBoundIPV6Address(address).WithDefaultEndpointBoundIPAddress(IPAddress.None)
            : builder.WithDefaultEndpointBoundIPAddress(address).WithDefaultEndpointBoundIPV6Address(IPAddress.None);
        var server = new MqttServerFactory().CreateMqttServer(builder.Build());
        try
        {
            await server.StartAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            server.Dispose();
            throw new InvalidOperationException($"The embedded MQTT broker cannot listen on {address}:{chosen}: {ex.Message}. Give another port, or 0 for a free one.", ex);
        }

        return new EmbeddedNotificationBroker(server, address, chosen);
    }

    /// <inheritdoc />
    public Task PublishAsync(string topic, byte[] payload, CancellationToken cancellationToken)
    {
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build();
        return _server.InjectApplicationMessage(new InjectedMqttApplicationMessage(message) { SenderClientId = "awstunnel-local-service" }, cancellationToken);
    }

    /// <summary>
    /// Completes once some client has subscribed to <paramref name="topic"/> (exactly that filter):
    /// the broker keeps no message for absent subscribers, so a notification published before an
    /// agent subscribed would be lost, as with AWS IoT for a device that is offline.
    /// </summary>
    public Task WaitForSubscriberAsync(string topic, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_subscribed.Contains(topic))
            {
                return Task.CompletedTask;
            }

            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((topic, waiter));
            return waiter.Task.WaitAsync(cancellationToken);
        }
    }

    private Task OnSubscribed(ClientSubscribedTopicEventArgs e)
    {
        lock (_gate)
        {
            _subscribed.Add(e.TopicFilter.Topic);
            foreach (var (topic, waiter) in _waiters.Where(w => w.Topic == e.TopicFilter.Topic).ToList())
            {
                waiter.TrySetResult();
                _waiters.Remove((topic, waiter));
            }
        }

        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _server.StopAsync().ConfigureAwait(false);
        _server.Dispose();
    }

    // MQTTnet does not report the port it bound, so a free one is found first.
    private static int FreePort(IPAddress address)
    {
        using var probe = new TcpListener(address, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
