/** A place in a JSON document: a member name, or an array index. */
type Frame =
  | { kind: 'object'; keys: Set<string>; key?: string; expectKey: boolean }
  | { kind: 'array'; index: number };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The path of the first member name that one object of `text` holds twice,
 * or undefined. `text` must be valid JSON (it has been parsed). JSON.parse
 * keeps the last of repeated names without a word, where another reader of
 * the same body (a proxy, a log, a signature check) may take the first: for
 * a body that moves money, either reading must be the only one. Names are
 * compared as decoded, so `"a"` and `"\u0061"` are the same name.
 */
export function findRepeatedKey(text: string): string | undefined {
  const stack: Frame[] = [];
  let i = 0;
  while (i < text.length) {
    const char = text.charCodeAt(i);
    if (char === QUOTE) {
      const end = stringEnd(text, i);
      const top = stack.at(-1);
      if (top?.kind === 'object' && top.expectKey) {
        const raw = text.slice(i, end);
        const key = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        top.key = key;
        top.expectKey = false;
        if (top.keys.has(key)) return pathOf(stack);
        top.keys.add(key);
      }
      i = end;
      continue;
    }
    const top = stack.at(-1);
    if (char === 0x7b) stack.push({ kind: 'object', keys: new Set(), expectKey: true });
    else if (char === 0x5b) stack.push({ kind: 'array', index: 0 });
    else if (char === 0x7d || char === 0x5d) stack.pop();
    else if (char === 0x2c && top?.kind === 'object') top.expectKey = true;
    else if (char === 0x2c && top?.kind === 'array') top.index += 1;
    i += 1;
  }
  return undefined;
}

/** The index just past the string that opens at `start`. */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const char = text.charCodeAt(i);
    if (char === BACKSLASH) i += 2;
    else if (char === QUOTE) return i + 1;
    else i += 1;
  }
  return i;
}

function pathOf(stack: Frame[]): string {
  return stack
    .map((frame) => (frame.kind === 'object' ? (frame.key ?? '') : String(frame.index)))
    .join('.');
}
