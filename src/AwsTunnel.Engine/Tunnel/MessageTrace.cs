using AwsTunnel.Engine.Protocol;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.Engine.Tunnel;

/// <summary>
/// One line per tunneling message sent or received, at -v 6 (trace), as the reference logs
/// them: the control messages and the DATA of every connection, both ways. Never a payload.
/// </summary>
internal static class MessageTrace
{
    public static void Log(ILogger logger, string direction, Message message)
    {
        if (logger.IsEnabled(LogLevel.Trace))
        {
            logger.LogTrace("{Direction} {Type}: stream {StreamId}, service '{Service}', connection {ConnectionId}, {Bytes} payload bytes",
                direction, message.Type, message.StreamId, message.ServiceId, message.ConnectionId, message.Payload.Length);
        }
    }
}
