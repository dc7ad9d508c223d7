using Google.Protobuf;

namespace AwsTunnel.Engine.Protocol;

/// <summary>Builders for the messages a proxy or the service sends, so their shape lives in one place.</summary>
public static class Messages
{
    public static Message StreamStart(int streamId, string serviceId, uint connectionId) => new()
    {
        Type = Message.Types.Type.StreamStart, StreamId = streamId, ServiceId = serviceId, ConnectionId = connectionId,
    };

    public static Message ConnectionStart(int streamId, string serviceId, uint connectionId) => new()
    {
        Type = Message.Types.Type.ConnectionStart, StreamId = streamId, ServiceId = serviceId, ConnectionId = connectionId,
    };

    public static Message StreamReset(int streamId, string serviceId) => new()
    {
        Type = Message.Types.Type.StreamReset, StreamId = streamId, ServiceId = serviceId,
    };

    public static Message ConnectionReset(int streamId, string serviceId, uint connectionId) => new()
    {
        Type = Message.Types.Type.ConnectionReset, StreamId = streamId, ServiceId = serviceId, ConnectionId = connectionId,
    };

    public static Message Data(int streamId, string serviceId, uint connectionId, ByteString payload) => new()
    {
        Type = Message.Types.Type.Data, StreamId = streamId, ServiceId = serviceId, ConnectionId = connectionId, Payload = payload,
    };

    public static Message SessionReset() => new() { Type = Message.Types.Type.SessionReset };

    public static Message ServiceIds(IEnumerable<string> serviceIds)
    {
        var message = new Message { Type = Message.Types.Type.ServiceIds };
        message.AvailableServiceIds.AddRange(serviceIds);
        return message;
    }
}
