namespace AwsTunnel.Engine.Protocol;

/// <summary>The peer or the service broke the tunneling protocol; the message says how.</summary>
public sealed class TunnelProtocolException : Exception
{
    public TunnelProtocolException(string message) : base(message) { }
    public TunnelProtocolException(string message, Exception inner) : base(message, inner) { }
}
