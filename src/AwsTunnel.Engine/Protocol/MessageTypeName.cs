namespace AwsTunnel.Engine.Protocol;

/// <summary>
/// Names a message type in error messages the way a reader expects: "A Data message" for a type
/// the schema defines, and words (not "A Unknown message") for type 0 and undefined numbers.
/// </summary>
public static class MessageTypeName
{
    /// <summary>A capitalised noun phrase for a message of <paramref name="type"/>, e.g. <c>A StreamStart message</c>.</summary>
    public static string AMessageOf(Message.Types.Type type) => type switch
    {
        Message.Types.Type.Unknown => "A message of type 0 (UNKNOWN)",
        _ when Enum.IsDefined(type) => $"A {type} message",
        _ => $"A message of undefined type {(int)type}",
    };
}
