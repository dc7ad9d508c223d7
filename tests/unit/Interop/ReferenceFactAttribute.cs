namespace AwsTunnel.Tests.Interop;

/// <summary>A test that needs the reference localproxy: skipped, saying why, when <c>LOCALPROXY</c> names none.</summary>
public sealed class ReferenceFactAttribute : FactAttribute
{
    public ReferenceFactAttribute()
    {
        Skip = ReferenceProxy.WhyUnavailable;
    }
}

/// <summary>A theory that needs the reference localproxy: skipped, saying why, when <c>LOCALPROXY</c> names none.</summary>
public sealed class ReferenceTheoryAttribute : TheoryAttribute
{
    public ReferenceTheoryAttribute()
    {
        Skip = ReferenceProxy.WhyUnavailable;
    }
}
