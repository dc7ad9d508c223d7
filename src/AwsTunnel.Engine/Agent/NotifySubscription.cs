using System.Buffers;
using System.Net.Security;
using System.Security.Authentication;
using AwsTunnel.Engine.Transport;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Adapter;
using MQTTnet.Exceptions;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace AwsTunnel.Engine.Agent;

/// <summary>
/// The agent's MQTT side: one client connected to the broker and subscribed to the thing's
/// notify topic, kept that way. A lost connection is reconnected with backoff (forever: a
/// device waits for its network), and the subscription is made again on every connection,
/// whether or not the broker kept the session. Payloads go to the handler unread; nothing
/// here ever logs one (they carry access tokens).
/// </summary>
internal sealed class NotifySubscription : IAsyncDisposable
{
    /// <summary>AWS IoT Core takes MQTT on 443 only with this ALPN protocol.</summary>
    private static readonly SslApplicationProtocol AwsIotMqttAlpn = new("x-amzn-mqtt-ca");

    private readonly AgentOptions _options;
    private readonly ILogger _logger;
    private readonly Action<ReadOnlySequence<byte>> _onPayload;
    private readonly IMqttClient _client;
    private readonly MqttClientOptions _clientOptions;
    private readonly CertificateTrust _trust;
    private readonly CancellationTokenSource _lifetime = new();
    private TaskCompletionSource<string> _lost = NewLostSource();
    private Task _keepConnected = Task.CompletedTask;
    private int _subscriptions;

    public NotifySubscription(AgentOptions options, ILogger logger, Action<ReadOnlySequence<byte>> onPayload)
    {
        _options = options;
        _logger = logger;
        _onPayload = onPayload;
        _trust = new CertificateTrust(options.BrokerTrustedCertificates ?? new(), options.SkipBrokerCertificateCheck);
        _clientOptions = BuildClientOptions();
        _client = new MqttClientFactory().CreateMqttClient();
        _client.ApplicationMessageReceivedAsync += OnMessageAsync;
        _client.DisconnectedAsync += OnDisconnectedAsync;
    }

    /// <summary>Connected to the broker and subscribed, or on the way there.</summary>
    public event EventHandler<bool>? ConnectionChanged;

    /// <summary>True while connected and subscribed.</summary>
    public bool IsConnected { get; private set; }

    /// <summary>How many times the notify topic was subscribed: 1 after the start, one more per reconnect.</summary>
    public int Subscriptions => Volatile.Read(ref _subscriptions);

    /// <summary>
    /// Connects and subscribes, retrying unreachable brokers with backoff until <see cref="AgentOptions.StartTimeout"/>.
    /// </summary>
    /// <exception cref="BrokerRefusedException">the broker refused the agent, or did not become reachable in time.</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.SkipBrokerCertificateCheck && _options.Broker.UseTls)
        {
            _logger.LogWarning("Broker certificate verification is off: the connection to {Broker} can be intercepted.", _options.Broker);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lifetime.Token);
        timeout.CancelAfter(_options.StartTimeout);
        var backoff = new BrokerBackoff(_options.ReconnectDelay, _options.MaxReconnectDelay);
        string? lastFailure = null;
        while (true)
        {
            try
            {
                await ConnectAndSubscribeAsync(timeout.Token).ConfigureAwait(false);
                break;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new BrokerRefusedException(
                    $"Could not connect to the MQTT broker {_options.Broker} within {_options.StartTimeout.TotalSeconds:0.#} s. " +
                    $"Check the broker address and the network, or allow more time.{(lastFailure is null ? string.Empty : " Last attempt: " + lastFailure)}");
            }
            catch (Exception ex) when (ex is not BrokerRefusedException and not OperationCanceledException)
            {
                lastFailure = Describe(ex);
                var delay = backoff.Next();
                _logger.LogWarning("Connecting to the MQTT broker {Broker} failed: {Reason} Retrying in {Seconds:0.#} s.",
                    _options.Broker, lastFailure, delay.TotalSeconds);
                try
                {
                    await Task.Delay(delay, timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new BrokerRefusedException(
                        $"Could not connect to the MQTT broker {_options.Broker} within {_options.StartTimeout.TotalSeconds:0.#} s. Last attempt: {lastFailure}");
                }
            }
        }

        _keepConnected = KeepConnectedAsync();
    }

    /// <summary>Stops reconnecting and disconnects from the broker.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_lifetime.IsCancellationRequested)
        {
            return;
        }

        _lifetime.Cancel();
        await _keepConnected.ConfigureAwait(false);
        if (_client.IsConnected)
        {
            using var budget = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), budget.Token).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                _logger.LogDebug("Disconnecting from the broker: {Reason}", ex.Message);
            }
        }

        SetConnected(false);
        _client.Dispose();
    }

    private async Task KeepConnectedAsync()
    {
        while (!_lifetime.IsCancellationRequested)
        {
            string reason;
            try
            {
                reason = await _lost.Task.WaitAsync(_lifetime.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            SetConnected(false);
            var backoff = new BrokerBackoff(_options.ReconnectDelay, _options.MaxReconnectDelay);
            _logger.LogWarning("Lost the MQTT broker {Broker}: {Reason} Reconnecting; running tunnels are not affected.", _options.Broker, reason);
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    await Task.Delay(backoff.Next(), _lifetime.Token).ConfigureAwait(false);
                    await ConnectAndSubscribeAsync(_lifetime.Token).ConfigureAwait(false);
                    _logger.LogInformation("Reconnected to the MQTT broker {Broker} and subscribed to {Topic} again.", _options.Broker, _options.NotifyTopic);
                    break;
                }
                catch (OperationCanceledException) when (_lifetime.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    // Refusals too: a policy may be fixed, or a broker may come back with its users, while the device waits.
                    _logger.LogWarning("Reconnect attempt {Attempt} to the MQTT broker {Broker} failed: {Reason}", attempt, _options.Broker, Describe(ex));
                }
            }
        }
    }

    private async Task ConnectAndSubscribeAsync(CancellationToken cancellationToken)
    {
        // A loss from here on belongs to this connection.
        _lost = NewLostSource();
        if (_client.IsConnected)
        {
            // A connection whose subscription failed: start clean.
            await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), cancellationToken).ConfigureAwait(false);
            _lost = NewLostSource();
        }

        MqttClientConnectResult connected;
        try
        {
            connected = await _client.ConnectAsync(_clientOptions, cancellationToken).ConfigureAwait(false);
        }
        catch (MqttConnectingFailedException ex)
        {
            throw ConnectionRefused(ex.Message.TrimEnd('.'), ex);
        }
        catch (MqttCommunicationException ex) when (FindInner<AuthenticationException>(ex) is { } tls)
        {
            string why = _trust.LastFailure ?? tls.Message;
            throw new BrokerRefusedException(
                $"The TLS handshake with the MQTT broker {_options.Broker} failed: {why}. Give the broker's CA certificate (for AWS IoT Core, AmazonRootCA1.pem) " +
                "and the device certificate and key the broker knows.", ex);
        }

        if (connected.ResultCode != MqttClientConnectResultCode.Success)
        {
            throw ConnectionRefused(connected.ResultCode.ToString(), null);
        }

        var subscription = new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(_options.NotifyTopic, MqttQualityOfServiceLevel.AtLeastOnce)
            .Build();
        var result = await _client.SubscribeAsync(subscription, cancellationToken).ConfigureAwait(false);
        var code = result.Items.Select(i => i.ResultCode).FirstOrDefault();
        if (code is not (MqttClientSubscribeResultCode.GrantedQoS0 or MqttClientSubscribeResultCode.GrantedQoS1 or MqttClientSubscribeResultCode.GrantedQoS2))
        {
            throw new BrokerRefusedException(
                $"The MQTT broker {_options.Broker} refused the subscription to {_options.NotifyTopic} ({code}). The device's policy must allow " +
                $"iot:Subscribe on topicfilter/$aws/things/{_options.ThingName}/tunnels/notify and iot:Receive on its topic.");
        }

        Interlocked.Increment(ref _subscriptions);
        _logger.LogInformation("Connected to the MQTT broker {Broker} as '{ClientId}' (session kept: {SessionPresent}); subscribed to {Topic}.",
            _options.Broker, ClientId, connected.IsSessionPresent, _options.NotifyTopic);
        SetConnected(true);
    }

    private BrokerRefusedException ConnectionRefused(string why, Exception? inner) => new(
        $"The MQTT broker {_options.Broker} refused the connection ({why}). Check the device certificate, the client id " +
        $"'{ClientId}' and the device's policy (it must allow iot:Connect for this client id).", inner);

    private Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        if (!string.Equals(e.ApplicationMessage.Topic, _options.NotifyTopic, StringComparison.Ordinal))
        {
            _logger.LogDebug("Ignored a message on {Topic}: the agent only reads {NotifyTopic}.", e.ApplicationMessage.Topic, _options.NotifyTopic);
            return Task.CompletedTask;
        }

        _onPayload(e.ApplicationMessage.Payload);
        return Task.CompletedTask;
    }

    private Task OnDisconnectedAsync(MqttClientDisconnectedEventArgs e)
    {
        if (e.ClientWasConnected)
        {
            string reason = e.Exception is null ? $"the connection closed ({e.Reason})." : $"{Describe(e.Exception)}";
            _lost.TrySetResult(reason);
        }

        return Task.CompletedTask;
    }

    private string ClientId => _options.ClientId ?? _options.ThingName;

    private MqttClientOptions BuildClientOptions()
    {
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(_options.Broker.Host, _options.Broker.Port)
            .WithClientId(ClientId)
            .WithProtocolVersion(MqttProtocolVersion.V311)
            .WithCleanSession(!_options.PersistentSession)
            .WithKeepAlivePeriod(_options.KeepAlive)
            .WithTimeout(TimeSpan.FromSeconds(Math.Min(30, Math.Max(5, _options.StartTimeout.TotalSeconds))));
        if (_options.BrokerCredential is { } credential)
        {
            builder.WithCredentials(credential.UserName, credential.Password);
        }

        if (_options.Broker.UseTls)
        {
            builder.WithTlsOptions(tls =>
            {
                tls.UseTls()
                    .WithTargetHost(_options.Broker.Host)
                    .WithSslProtocols(SslProtocols.Tls12 | SslProtocols.Tls13)
                    .WithCertificateValidationHandler(e => _trust.Validate(this, e.Certificate, e.Chain, e.SslPolicyErrors));
                if (_options.ClientCertificate is { } certificate)
                {
                    tls.WithClientCertificates(new[] { certificate });
                }

                if (_options.Broker.Port == 443)
                {
                    tls.WithApplicationProtocols(new List<SslApplicationProtocol> { AwsIotMqttAlpn });
                }
            });
        }

        return builder.Build();
    }

    private void SetConnected(bool connected)
    {
        if (IsConnected != connected)
        {
            IsConnected = connected;
            ConnectionChanged?.Invoke(this, connected);
        }
    }

    private static string Describe(Exception ex)
    {
        string message = ex.InnerException is { } cause && !ex.Message.Contains(cause.Message, StringComparison.Ordinal)
            ? $"{ex.Message} ({cause.Message})"
            : ex.Message;
        return message.EndsWith('.') ? message : message + ".";
    }

    private static T? FindInner<T>(Exception ex) where T : Exception
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is T found)
            {
                return found;
            }
        }

        return null;
    }

    private static TaskCompletionSource<string> NewLostSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
