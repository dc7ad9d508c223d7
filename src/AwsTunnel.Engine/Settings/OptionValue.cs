namespace AwsTunnel.Engine.Settings;

/// <summary>An option's value and where it came from (for messages; never print the value of a token).</summary>
/// <param name="Value">The value as given (trimmed).</param>
/// <param name="Source">Names the input in messages: <c>-r/--region</c>, <c>-Region</c>, <c>region in config file x.ini</c>, a variable name.</param>
/// <param name="Origin">How strong the source is.</param>
public sealed record OptionValue(string Value, string Source, OptionOrigin Origin)
{
    /// <summary>The source only: values may be secrets.</summary>
    public override string ToString() => Source;
}
