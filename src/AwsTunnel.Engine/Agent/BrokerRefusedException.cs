namespace AwsTunnel.Engine.Agent;

/// <summary>
/// The broker answered but refused the agent: the connection (certificate, client id, policy)
/// or the subscription to the notify topic. Retrying with the same settings will not help, so
/// a first start fails at once; the message says what to change.
/// </summary>
internal sealed class BrokerRefusedException : Exception
{
    public BrokerRefusedException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
