//! Command lines typed into the form, split the way a POSIX shell splits words (without
//! expansions): blanks separate words, '…' keeps everything literally, "…" keeps everything but
//! lets \" \\ \$ \` escape, and a backslash outside quotes escapes the next character.

export type SplitResult = { ok: true; args: string[] } | { ok: false; error: string };

export function splitCommand(input: string): SplitResult {
  const args: string[] = [];
  let current = '';
  let inWord = false;
  let i = 0;
  while (i < input.length) {
    const ch = input[i];
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      if (inWord) {
        args.push(current);
        current = '';
        inWord = false;
      }
      i += 1;
    } else if (ch === "'") {
      const close = input.indexOf("'", i + 1);
      if (close < 0) return { ok: false, error: 'unterminated single quote' };
      current += input.slice(i + 1, close);
      inWord = true;
      i = close + 1;
    } else if (ch === '"') {
      i += 1;
      let closed = false;
      while (i < input.length) {
        const c = input[i];
        if (c === '"') {
          closed = true;
          i += 1;
          break;
        }
        if (c === '\\' && i + 1 < input.length && '"\\$`\n'.includes(input[i + 1])) {
          if (input[i + 1] !== '\n') current += input[i + 1];
          i += 2;
          continue;
        }
        current += c;
        i += 1;
      }
      if (!closed) return { ok: false, error: 'unterminated double quote' };
      inWord = true;
    } else if (ch === '\\') {
      if (i + 1 >= input.length) return { ok: false, error: 'trailing backslash' };
      if (input[i + 1] !== '\n') {
        current += input[i + 1];
        inWord = true;
      }
      i += 2;
    } else {
      current += ch;
      inWord = true;
      i += 1;
    }
  }
  if (inWord) args.push(current);
  return { ok: true, args };
}

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one word so that `splitCommand` gives it back unchanged. */
export function quoteArg(arg: string): string {
  if (arg === '') return "''";
  if (SAFE.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The inverse of `splitCommand`: a line that splits back into exactly `args`. */
export function joinCommand(args: readonly string[]): string {
  return args.map(quoteArg).join(' ');
}
