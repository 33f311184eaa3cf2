//! The create form's volumes: one `-v` value per row, checked as `berth run -v` parses them
//! (engine `volume::parse_volume_flag`): `NAME:/path[:opts]`, `/host:/path[:opts]`, or `/path`
//! alone for an anonymous volume; opts are comma-separated `ro`, `rw`, `z`, `Z`.

export interface VolumeRow {
  key: number;
  value: string;
}

export type VolumeSpec =
  | { kind: 'named'; name: string; target: string; readOnly: boolean }
  | { kind: 'bind'; source: string; target: string; readOnly: boolean }
  | { kind: 'anonymous'; target: string; readOnly: boolean };

export type ParsedVolume = { ok: true; spec: VolumeSpec } | { ok: false; error: string };

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const OPTIONS = new Set(['ro', 'rw', 'z', 'Z']);

export function parseVolume(input: string): ParsedVolume {
  const value = input.trim();
  if (value === '') return { ok: false, error: 'volume required' };
  const parts = value.split(':');
  if (parts.length > 3) return { ok: false, error: `"${value}": too many ":" (use SOURCE:/path[:ro])` };
  if (parts.length === 1) {
    if (!value.startsWith('/')) return { ok: false, error: `"${value}": the path in the container must be absolute` };
    return { ok: true, spec: { kind: 'anonymous', target: value, readOnly: false } };
  }
  const [source, target, opts = ''] = parts;
  let readOnly = false;
  if (parts.length === 3) {
    const list = opts.split(',');
    for (const o of list) {
      if (!OPTIONS.has(o)) return { ok: false, error: `"${value}": unknown option "${o}" (use ro or rw)` };
    }
    readOnly = list.includes('ro');
    if (readOnly && list.includes('rw')) return { ok: false, error: `"${value}": both ro and rw` };
  }
  if (source === '') return { ok: false, error: `"${value}": the source is empty` };
  if (!target.startsWith('/')) return { ok: false, error: `"${value}": the path in the container "${target}" must be absolute` };
  if (source.startsWith('/')) return { ok: true, spec: { kind: 'bind', source, target, readOnly } };
  if (source.startsWith('.') || source.startsWith('~')) {
    return { ok: false, error: `"${value}": a host path must be absolute` };
  }
  if (!NAME.test(source)) {
    return { ok: false, error: `"${value}": "${source}" is not a valid volume name: use letters, digits, "_", "." and "-"` };
  }
  return { ok: true, spec: { kind: 'named', name: source, target, readOnly } };
}

/** One error (or null) per row; a row repeating another's container path is an error too. */
export function validateVolumes(rows: readonly VolumeRow[]): (string | null)[] {
  const seen = new Map<string, number>();
  return rows.map((row, i) => {
    if (row.value.trim() === '') return null; // blank rows are left out
    const parsed = parseVolume(row.value);
    if (!parsed.ok) return parsed.error;
    const first = seen.get(parsed.spec.target);
    if (first !== undefined) return `${parsed.spec.target} is already mounted by row ${first + 1}`;
    seen.set(parsed.spec.target, i);
    return null;
  });
}

/** The `volumes` of a CreateRequest: the non-blank rows, trimmed. */
export function volumeStrings(rows: readonly VolumeRow[]): string[] {
  return rows.map((r) => r.value.trim()).filter((v) => v !== '');
}
