namespace AwsTunnel.Engine.Settings;

/// <summary>Where an option's value came from, strongest first.</summary>
public enum OptionOrigin
{
    /// <summary>Typed by the user: a command-line flag or a cmdlet parameter.</summary>
    Typed = 0,

    /// <summary>Bound from a piped object's property (PowerShell).</summary>
    Pipeline = 1,

    /// <summary>Implied by another input, such as the region inside a piped TunnelArn.</summary>
    Derived = 2,

    /// <summary>A <c>--config</c> file.</summary>
    ConfigFile = 3,

    /// <summary>One of the tunnel's own environment variables (<c>AWSIOT_TUNNEL_*</c>).</summary>
    Environment = 4,

    /// <summary>An ambient default that is not about tunnels: <c>$StoredAWSRegion</c>, <c>AWS_REGION</c>, <c>AWS_DEFAULT_REGION</c>.</summary>
    AmbientDefault = 5,
}
