namespace AwsTunnel.Engine.Service;

/// <summary>Whose access token RotateTunnelAccessToken replaces: the API's ClientMode.</summary>
public enum TunnelClientMode
{
    Source,
    Destination,
    All,
}
