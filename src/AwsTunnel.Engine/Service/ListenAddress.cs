using System.Net;

namespace AwsTunnel.Engine.Service;

/// <summary>
/// Reads the address the local tunneling service listens on, the same way for both front ends:
/// an IPv4 or IPv6 literal (brackets allowed, as in <c>[::1]</c>) or <c>localhost</c> (127.0.0.1).
/// </summary>
public static class ListenAddress
{
    /// <summary>Parses <paramref name="text"/>.</summary>
    /// <param name="text">What the user gave.</param>
    /// <param name="inputName">Names the input in the error, e.g. <c>--address</c> or <c>-Address</c>.</param>
    /// <exception cref="ArgumentException">it is neither an IP address nor localhost; the message names the input and the fix.</exception>
    public static IPAddress Parse(string? text, string inputName)
    {
        string trimmed = text?.Trim() ?? string.Empty;
        if (string.Equals(trimmed, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.Loopback;
        }

        return IPAddress.TryParse(trimmed.Trim('[', ']'), out var address) && trimmed.Length > 0
            ? address
            : throw new ArgumentException($"{inputName} '{text}' is not an IP address. Give one such as 127.0.0.1, ::1 or localhost.");
    }
}
