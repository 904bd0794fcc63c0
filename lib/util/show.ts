/**
 * A value as it goes into an error message: quoted, cut to `max` characters, and with everything
 * but printable ASCII written as `\u{…}`, so a look-alike (Cyrillic "С"), a zero-width space or a
 * control character is visible instead of being printed as something that looks valid. Pure.
 */
export function showValue(value: unknown, max = 40): string {
  if (typeof value !== 'string') return value === undefined ? 'nothing' : typeof value;
  const chars = Array.from(value);
  const shown = chars
    .slice(0, max)
    .map((c) =>
      c === '"' || c === '\\'
        ? `\\${c}`
        : /^[\x20-\x7e]$/.test(c)
          ? c
          : `\\u{${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}}`,
    )
    .join('');
  return `"${shown}${chars.length > max ? `..." (${chars.length} characters)` : '"'}`;
}
