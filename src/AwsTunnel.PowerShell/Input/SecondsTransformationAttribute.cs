using System.Globalization;
using System.Management.Automation;

namespace AwsTunnel.PowerShell.Input;

/// <summary>
/// Lets a TimeSpan parameter take a number of seconds (<c>-StartTimeout 10</c>) as well as a
/// TimeSpan or "hh:mm:ss"; without it PowerShell would read 10 as ten ticks.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class SecondsTransformationAttribute : ArgumentTransformationAttribute
{
    /// <inheritdoc />
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        object value = inputData is PSObject ps ? ps.BaseObject : inputData;
        return value switch
        {
            int or long or short or byte or double or float or decimal =>
                TimeSpan.FromSeconds(Convert.ToDouble(value, CultureInfo.InvariantCulture)),
            string text when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) =>
                TimeSpan.FromSeconds(seconds),
            _ => inputData,
        };
    }
}
