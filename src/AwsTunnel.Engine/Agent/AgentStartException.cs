namespace AwsTunnel.Engine.Agent;

/// <summary>The agent could not start: the broker was unreachable in time or refused it. The message says what to change.</summary>
public sealed class AgentStartException : Exception
{
    public AgentStartException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
