using System.Text;

namespace AwsTunnel.Bench;

internal sealed class BenchContext(BenchOptions options, ChildRegistry children, Results results, TestServer server)
{
    public BenchOptions Options { get; } = options;
    public ChildRegistry Children { get; } = children;
    public Results Results { get; } = results;
    public TestServer Server { get; } = server;
}

internal enum Verdict
{
    Info,
    Met,
    Missed,
    Error,
}

internal sealed record ResultRow(string Bench, string Metric, string Value, string Target, Verdict Verdict, string Note);

/// <summary>The rows of the final table.</summary>
internal sealed class Results
{
    private readonly List<ResultRow> _rows = new();
    private readonly List<string> _notes = new();

    public IReadOnlyList<ResultRow> Rows => _rows;

    public void Info(string bench, string metric, string value, string note = "") =>
        _rows.Add(new ResultRow(bench, metric, value, "", Verdict.Info, note));

    public void Check(string bench, string metric, string value, string target, bool met, string missedBy = "") =>
        _rows.Add(new ResultRow(bench, metric, value, target, met ? Verdict.Met : Verdict.Missed, met ? "" : missedBy));

    public void Error(string bench, string message) =>
        _rows.Add(new ResultRow(bench, "error", "", "", Verdict.Error, message));

    public void Note(string text) => _notes.Add(text);

    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine("| bench | metric | value | target | status |");
        sb.AppendLine("|---|---|---|---|---|");
        foreach (var r in _rows)
        {
            string status = r.Verdict switch
            {
                Verdict.Met => "met",
                Verdict.Missed => "**missed**" + (r.Note.Length > 0 ? $" ({r.Note})" : string.Empty),
                Verdict.Error => "**error**: " + Escape(r.Note),
                _ => r.Note,
            };
            sb.AppendLine($"| {r.Bench} | {Escape(r.Metric)} | {Escape(r.Value)} | {Escape(r.Target)} | {status} |");
        }

        if (_notes.Count > 0)
        {
            sb.AppendLine();
            foreach (var note in _notes)
            {
                sb.AppendLine($"- {note}");
            }
        }

        return sb.ToString();
    }

    private static string Escape(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}
