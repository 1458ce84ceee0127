export interface DelimitedRow {
  /** 1-based line number in the file, for error messages. */
  line: number;
  fields: Record<string, string>;
}

export class FormatError extends Error {
  override name = 'FormatError';
}

/**
 * Reads the bank's export format: one record a line, fields separated by `;`,
 * text fields in double quotes (a doubled quote inside stands for one), the
 * first line naming the columns. Lines may end in LF or CRLF; blank lines are
 * skipped. Every field comes back as a string, an empty field as ''.
 */
export function parseDelimited(text: string, separator = ';'): DelimitedRow[] {
  const lines = text.split('\n').map((line) => line.replace(/\r$/, ''));
  const header = lines[0];
  if (header === undefined || header.trim() === '') throw new FormatError('the file is empty');
  const columns = splitFields(header, separator, 1);

  const rows: DelimitedRow[] = [];
  lines.slice(1).forEach((text, index) => {
    const line = index + 2;
    if (text.trim() === '') return;
    const values = splitFields(text, separator, line);
    if (values.length !== columns.length) {
      throw new FormatError(`line ${line}: ${values.length} fields, expected ${columns.length}`);
    }
    rows.push({
      line,
      fields: Object.fromEntries(columns.map((name, i) => [name, values[i] ?? ''])),
    });
  });
  return rows;
}

/** Splits one line into its fields, unquoting the quoted ones. */
export function splitFields(text: string, separator: string, line: number): string[] {
  const fields: string[] = [];
  let position = 0;
  for (;;) {
    const { value, next } =
      text[position] === '"'
        ? readQuoted(text, position, line)
        : readBare(text, position, separator);
    fields.push(value);
    if (next >= text.length) return fields;
    if (text[next] !== separator) {
      throw new FormatError(`line ${line}: text after a closing quote at column ${next + 1}`);
    }
    position = next + 1;
    if (position === text.length) {
      fields.push('');
      return fields;
    }
  }
}

function readBare(text: string, start: number, separator: string) {
  const end = text.indexOf(separator, start);
  const next = end === -1 ? text.length : end;
  return { value: text.slice(start, next), next };
}

function readQuoted(text: string, start: number, line: number) {
  let value = '';
  let position = start + 1;
  for (;;) {
    const quote = text.indexOf('"', position);
    if (quote === -1) throw new FormatError(`line ${line}: unclosed quote at column ${start + 1}`);
    value += text.slice(position, quote);
    if (text[quote + 1] !== '"') return { value, next: quote + 1 };
    value += '"';
    position = quote + 2;
  }
}
