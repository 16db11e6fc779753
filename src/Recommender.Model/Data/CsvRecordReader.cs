using System.Text;

namespace Recommender.Model.Data;

/// <summary>
/// Reads a CSV file as RFC 4180 records: fields separated by commas, a field may be enclosed in double quotes, and
/// inside quotes a doubled quote is one quote and commas and line breaks (kept exactly as written) are text. Records
/// end at CRLF, LF or CR outside quotes. Working record by record rather than line by line is what lets a quoted
/// field span lines.
/// </summary>
/// <remarks>
/// Written here rather than taken from a CSV library because the loaders must refuse, with file and line, what the
/// common readers accept quietly: a quote left open (read to the end of the file as one field) and text after a
/// closing quote (joined into the field). A loader that guesses would train on ids that exist in no catalogue.
/// </remarks>
internal static class CsvRecordReader
{
    /// <summary>One record: the 1-based line it starts on, its unquoted fields, and whether its line was empty.</summary>
    internal sealed record Record(int Line, IReadOnlyList<string> Fields, bool Empty)
    {
        /// <summary>An empty or white-space-only line, which readers skip.</summary>
        public bool Blank => Empty || (Fields.Count == 1 && string.IsNullOrWhiteSpace(Fields[0]));

        /// <summary>The fields joined as a header line, without surrounding space or a byte-order mark.</summary>
        public string AsHeader => string.Join(',', Fields).Trim().TrimStart('\uFEFF');
    }

    private enum State { FieldStart, Unquoted, Quoted, AfterClosingQuote }

    /// <summary>Every record of the file in order, the header included.</summary>
    /// <exception cref="FormatException">A quote is never closed, or sits inside an unquoted field or before text after a closing quote; the message is "path:line: …" with the record's first line.</exception>
    public static IEnumerable<Record> Read(string path)
    {
        InputFile.Require(path, "File");
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var fields = new List<string>();
        var field = new StringBuilder();
        var state = State.FieldStart;
        var line = 1;
        var recordLine = 1;
        var consumed = false; // any character of the current record read yet
        int next;
        while ((next = reader.Read()) >= 0)
        {
            var c = (char)next;
            var lineBreak = c == '\n' || c == '\r';
            if (lineBreak)
            {
                line++;
                // CRLF is one line break: inside quotes both characters are kept, outside both end the record.
                if (c == '\r' && reader.Peek() == '\n')
                {
                    reader.Read();
                    if (state == State.Quoted) { field.Append("\r\n"); continue; }
                }
            }
            switch (state)
            {
                case State.Quoted:
                    if (c == '"') state = State.AfterClosingQuote;
                    else field.Append(c);
                    break;
                case State.AfterClosingQuote when c == '"':
                    field.Append('"');
                    state = State.Quoted;
                    break;
                case State.FieldStart when c == '"':
                    state = State.Quoted;
                    break;
                case State.Unquoted when c == '"':
                    throw Misplaced(path, recordLine, "a double quote inside an unquoted field (quote the whole field and double the inner quote)");
                case State.AfterClosingQuote when !lineBreak && c != ',':
                    throw Misplaced(path, recordLine, "text after the closing double quote of a field");
                default:
                    if (c == ',')
                    {
                        fields.Add(field.ToString());
                        field.Clear();
                        state = State.FieldStart;
                    }
                    else if (lineBreak)
                    {
                        fields.Add(field.ToString());
                        yield return new Record(recordLine, fields.ToArray(), Empty: !consumed);
                        fields.Clear();
                        field.Clear();
                        state = State.FieldStart;
                        recordLine = line;
                        consumed = false;
                        continue;
                    }
                    else
                    {
                        field.Append(c);
                        state = State.Unquoted;
                    }
                    break;
            }
            consumed = true;
        }
        if (state == State.Quoted)
            throw Misplaced(path, recordLine, "unbalanced double quotes: a quoted field is never closed");
        if (consumed)
        {
            fields.Add(field.ToString());
            yield return new Record(recordLine, fields.ToArray(), Empty: false);
        }
    }

    private static FormatException Misplaced(string path, int line, string problem) => new($"{path}:{line}: {problem}.");
}
