using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Text.RegularExpressions;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Tunnel;

namespace AwsTunnel.PowerShell.Input;

/// <summary>
/// Turns the values given to <c>-Service</c> into engine mappings. Accepted: <c>SSH1=5555</c>,
/// <c>5555</c>, <c>SSH1=10.0.0.1:22</c>, comma lists, arrays of those, hashtables
/// (<c>@{SSH1=5555}</c>), and a bare service id (<c>SSH1</c>: any free port, source only),
/// which is what the <c>services</c> of a notification or a local tunnel carry.
/// </summary>
internal static partial class ServiceArgument
{
    private const string InputName = "-Service";

    /// <exception cref="FormatException">a value is malformed; the message names it and the fix.</exception>
    public static IReadOnlyList<ServiceMapping> Parse(IEnumerable<object?>? values, TunnelMode mode)
    {
        var result = new List<ServiceMapping>();
        if (values is null)
        {
            return result;
        }

        foreach (var raw in values)
        {
            AddValue(result, Unwrap(raw), mode);
        }

        var duplicate = result.GroupBy(m => m.ServiceId, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            string what = duplicate.Key.Length == 0 ? "more than one unnamed entry" : $"service id '{duplicate.Key}' more than once";
            throw new FormatException($"{InputName} names {what}. Give each service exactly one mapping.");
        }

        return result;
    }

    private static void AddValue(List<ServiceMapping> result, object? value, TunnelMode mode)
    {
        switch (value)
        {
            case null:
                return;
            case string text:
                foreach (var entry in text.Split(',', StringSplitOptions.TrimEntries))
                {
                    result.Add(ParseEntry(entry, text, mode));
                }

                return;
            case int or long or short or uint or ushort or byte:
                result.Add(ParseEntry(Convert.ToString(value, CultureInfo.InvariantCulture)!, null, mode));
                return;
            case ServiceMapping mapping:
                result.Add(mapping);
                return;
            case IDictionary table:
                foreach (DictionaryEntry pair in table)
                {
                    string id = Convert.ToString(Unwrap(pair.Key), CultureInfo.InvariantCulture) ?? string.Empty;
                    string target = Convert.ToString(Unwrap(pair.Value), CultureInfo.InvariantCulture) ?? string.Empty;
                    result.Add(ParseEntry($"{id}={target}", null, mode));
                }

                return;
            case IEnumerable list:
                foreach (var item in list)
                {
                    AddValue(result, Unwrap(item), mode);
                }

                return;
            default:
                throw new FormatException(
                    $"{InputName} value '{value}' of type {value.GetType().Name} is not a service mapping. Give SERVICE=PORT, SERVICE=HOST:PORT, PORT, or a hashtable such as @{{SSH1=5555}}.");
        }
    }

    private static ServiceMapping ParseEntry(string entry, string? list, TunnelMode mode)
    {
        if (entry.Length == 0)
        {
            throw new FormatException($"{InputName} '{list}' has an empty entry. Write entries as SERVICE=PORT or SERVICE=HOST:PORT separated by commas.");
        }

        if (BareServiceId().IsMatch(entry))
        {
            if (mode == TunnelMode.Destination)
            {
                throw new FormatException(
                    $"{InputName} '{entry}' names a service but no target. A destination needs one: give {entry}=HOST:PORT or {entry}=PORT.");
            }

            return new ServiceMapping(entry, null, 0);
        }

        return ServiceMapping.Parse(entry, InputName);
    }

    private static object? Unwrap(object? value) => value is PSObject ps ? ps.BaseObject : value;

    /// <summary>A service id alone: starts with a letter, no '=' or ':' (so not a port or host:port).</summary>
    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_.-]*$")]
    private static partial Regex BareServiceId();
}
