using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using AwsTunnel.Engine.Agent;
using AwsTunnel.Engine.Transport;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace AwsTunnel.Engine.Service;

/// <summary>
/// Publishes the local tunneling service's notifications to a broker that runs elsewhere
/// (mosquitto, a test broker): connects when the first notification is due and again after
/// the broker was lost, so a broker that is down only costs the notifications of that time.
/// </summary>
public sealed class ExternalNotificationBroker : INotificationPublisher
{
    private readonly BrokerAddress _address;
    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    private readonly MqttClientOptions _options;
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <param name="address">The broker.</param>
    /// <param name="clientCertificate">A certificate (with key) to present, for brokers that require one.</param>
    /// <param name="trusted">CA certificates for the broker's certificate besides the system's.</param>
    /// <param name="credential">A user name and password, for brokers that want them.</param>
    public ExternalNotificationBroker(BrokerAddress address, X509Certificate2? clientCertificate = null,
        X509Certificate2Collection? trusted = null, NetworkCredential? credential = null)
    {
        _address = address;
        var trust = new CertificateTrust(trusted ?? new X509Certificate2Collection(), skipVerification: false);
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(address.Host, address.Port)
            .WithClientId("awstunnel-local-service-" + Guid.NewGuid().ToString("N")[..8])
            .WithProtocolVersion(MqttProtocolVersion.V311)
            .WithCleanSession(true)
            .WithTimeout(TimeSpan.FromSeconds(10));
        if (credential is not null)
        {
            builder.WithCredentials(credential.UserName, credential.Password);
        }

        if (address.UseTls)
        {
            builder.WithTlsOptions(tls =>
            {
                tls.UseTls()
                    .WithTargetHost(address.Host)
                    .WithSslProtocols(SslProtocols.Tls12 | SslProtocols.Tls13)
                    .WithCertificateValidationHandler(e => trust.Validate(this, e.Certificate, e.Chain, e.SslPolicyErrors));
                if (clientCertificate is not null)
                {
                    tls.WithClientCertificates(new[] { clientCertificate });
                }
            });
        }

        _options = builder.Build();
    }

    /// <inheritdoc />
    public string BrokerUri => _address.ToString();

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">the broker could not be reached or refused the message; the message names it.</exception>
    public async Task PublishAsync(string topic, byte[] payload, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_client.IsConnected)
            {
                try
                {
                    await _client.ConnectAsync(_options, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    throw new InvalidOperationException($"Could not connect to the MQTT broker {_address} to publish a tunnel notification: {ex.Message}", ex);
                }
            }

            var message = new MqttApplicationMessageBuilder()
                .WithTopic(topic)
                .WithPayload(payload)
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .Build();
            var result = await _client.PublishAsync(message, cancellationToken).ConfigureAwait(false);
            if (!result.IsSuccess)
            {
                throw new InvalidOperationException($"The MQTT broker {_address} refused the notification on {topic} ({result.ReasonCode}).");
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected)
        {
            try
            {
                using var budget = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), budget.Token).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Going away anyway.
            }
        }

        _client.Dispose();
        _gate.Dispose();
    }
}
