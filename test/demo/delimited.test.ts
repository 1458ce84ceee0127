import { describe, expect, it } from 'vitest';
import { FormatError, parseDelimited, splitFields } from '../../src/demo/delimited.js';

describe('parseDelimited', () => {
  it('names each field after its header column and unquotes text fields', () => {
    const rows = parseDelimited('"id";"name";"n"\n1;"POPLATEK MESICNE";930101\n');

    expect(rows).toEqual([{ line: 2, fields: { id: '1', name: 'POPLATEK MESICNE', n: '930101' } }]);
  });

  it('reads quoted empty fields, bare empty fields and empty fields at the end as empty', () => {
    const rows = parseDelimited('"a";"b";"c";"d"\n"";;"";\n');

    expect(rows[0]?.fields).toEqual({ a: '', b: '', c: '', d: '' });
  });

  it('keeps separators and doubled quotes inside quoted fields', () => {
    expect(splitFields('"a;b";"say ""hi""";x', ';', 1)).toEqual(['a;b', 'say "hi"', 'x']);
  });

  it('keeps spaces inside quotes as they are', () => {
    expect(splitFields('" ";"SANKC. UROK"', ';', 1)).toEqual([' ', 'SANKC. UROK']);
  });

  it('accepts CRLF line ends and skips blank lines', () => {
    const rows = parseDelimited('"a";"b"\r\n1;2\r\n\r\n3;4\r\n');

    expect(rows.map((row) => row.fields)).toEqual([
      { a: '1', b: '2' },
      { a: '3', b: '4' },
    ]);
    expect(rows.map((row) => row.line)).toEqual([2, 4]);
  });

  it('refuses a line with the wrong number of fields, naming the line', () => {
    expect(() => parseDelimited('"a";"b"\n1;2\n1;2;3\n')).toThrow(/line 3: 3 fields, expected 2/);
  });

  it('refuses an unclosed quote and text after a closing quote', () => {
    expect(() => splitFields('"abc;1', ';', 7)).toThrow(FormatError);
    expect(() => splitFields('"abc"x;1', ';', 7)).toThrow(/line 7: text after a closing quote/);
  });

  it('refuses an empty file', () => {
    expect(() => parseDelimited('')).toThrow(/empty/);
  });
});
