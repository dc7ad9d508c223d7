namespace AwsTunnel.Engine.Settings;

/// <summary>
/// A settings input (lpsettings.json, a <c>--config</c> file, a <c>--config-dir</c> file or a
/// one-off override) could not be used. The message names the input, the key, the value where
/// it is not secret, and what is expected instead.
/// </summary>
public sealed class SettingsException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong and how to fix it.</param>
    /// <param name="origin">Where: a file name, <c>file:line</c>, or the name of the override.</param>
    /// <param name="key">The setting or option key involved, when there is one.</param>
    /// <param name="inner">The underlying failure, if any.</param>
    public SettingsException(string message, string? origin = null, string? key = null, Exception? inner = null)
        : base(message, inner)
    {
        Origin = origin;
        Key = key;
    }

    /// <summary>Where the bad input came from (file, <c>file:line</c>, override name); null when unknown.</summary>
    public string? Origin { get; }

    /// <summary>The key that was rejected; null when the problem is not about one key (e.g. malformed JSON).</summary>
    public string? Key { get; }
}
