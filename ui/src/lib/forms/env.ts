//! Environment rows of the create form and env files, with the rules `berth run -e` and
//! `--env-file` apply.

export interface EnvRow {
  key: number;
  name: string;
  value: string;
}

/** Why a variable name can't be used, or null when it can. Blank rows are skipped, not errors. */
export function envNameError(name: string): string | null {
  if (name === '') return 'name required';
  if (name.includes('=')) return 'name must not contain "="';
  if (/\s/.test(name)) return 'name must not contain spaces';
  if (name.includes('\0')) return 'name must not contain NUL';
  return null;
}

export function isBlankEnvRow(row: EnvRow): boolean {
  return row.name.trim() === '' && row.value === '';
}

/** Per-row errors (null when fine); a name given twice is an error on its later rows. */
export function validateEnv(rows: readonly EnvRow[]): (string | null)[] {
  const seen = new Set<string>();
  return rows.map((row) => {
    if (isBlankEnvRow(row)) return null;
    const name = row.name.trim();
    const error = envNameError(name);
    if (error) return error;
    if (seen.has(name)) return `${name} is set twice`;
    seen.add(name);
    return null;
  });
}

/** KEY=VALUE strings of the non-blank rows, in order. */
export function envStrings(rows: readonly EnvRow[]): string[] {
  return rows.filter((r) => !isBlankEnvRow(r)).map((r) => `${r.name.trim()}=${r.value}`);
}

/**
 * Pasted "KEY=VALUE" text (one a line) into rows: lets a person paste a block of variables into
 * one name field. Lines without "=" become a name with an empty value.
 */
export function parseEnvLines(text: string): { name: string; value: string }[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const eq = l.indexOf('=');
      return eq < 0 ? { name: l, value: '' } : { name: l.slice(0, eq), value: l.slice(eq + 1) };
    });
}

/**
 * The variables an env file sets, as Podman reads `--env-file`: one KEY=VALUE a line, `#`
 * comments and blank lines skipped, leading blanks of the name trimmed, the value taken
 * literally; a bare KEY takes the host's value (so the app can only name it).
 */
export function parseEnvFile(contents: string): { names: string[]; errors: string[] } {
  const names: string[] = [];
  const errors: string[] = [];
  contents.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/^\s+/, '');
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const name = eq < 0 ? line.trimEnd() : line.slice(0, eq);
    const error = envNameError(name);
    if (error) errors.push(`line ${i + 1}: ${error}`);
    else names.push(name);
  });
  return { names, errors };
}
