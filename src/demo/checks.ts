/** One line of the reconciliation: what was checked, whether it held, and the numbers. */
export interface Check {
  name: string;
  pass: boolean;
  detail: string;
}

/** Up to `limit` examples of what went wrong, for a failed check's detail. */
export function examples(items: readonly string[], limit = 3): string {
  if (items.length === 0) return '';
  const more = items.length > limit ? `, and ${items.length - limit} more` : '';
  return `; e.g. ${items.slice(0, limit).join('; ')}${more}`;
}
