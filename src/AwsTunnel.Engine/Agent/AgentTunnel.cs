using AwsTunnel.Engine.Tunnel;

namespace AwsTunnel.Engine.Agent;

/// <summary>One tunnel the agent serves: the notification it came from and the destination session started for it.</summary>
public sealed class AgentTunnel
{
    internal AgentTunnel(TunnelNotification notification, TunnelClient client, IReadOnlyList<ServiceMapping> targets)
    {
        Notification = notification;
        Client = client;
        Targets = targets;
        StartedAt = DateTimeOffset.Now;
    }

    /// <summary>What the agent matches repeats and rotations on (see <see cref="TunnelNotification.Key"/>).</summary>
    public string Key => Notification.Key;

    /// <summary>The tunnel id, when the notification carried one.</summary>
    public string? TunnelId => Notification.TunnelId;

    /// <summary>The region the tunnel was opened in.</summary>
    public string Region => Notification.Region;

    /// <summary>The tunnel's services.</summary>
    public IReadOnlyList<string> Services => Notification.Services;

    /// <summary>Where each service's streams go.</summary>
    public IReadOnlyList<ServiceMapping> Targets { get; }

    /// <summary>The destination session.</summary>
    public TunnelClient Client { get; }

    /// <summary>When the destination started.</summary>
    public DateTimeOffset StartedAt { get; }

    /// <summary>The notification the destination was started for (its token is not public).</summary>
    public TunnelNotification Notification { get; }

    /// <summary>A description without the token.</summary>
    public override string ToString() => Notification.ToString();
}
