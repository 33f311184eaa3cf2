//! The inspect JSON as a collapsible tree: which rows are visible for a set of expanded nodes,
//! and a search over keys and values that names the matching rows and the nodes to expand so
//! that every match is visible.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface TreeRow {
  /** JSON-pointer-like path: "" for the root, "/State/Status", "/Mounts/0". */
  path: string;
  depth: number;
  /** The key in its parent (a property name or an index); null for the root. */
  key: string | null;
  kind: 'object' | 'array' | 'string' | 'number' | 'boolean' | 'null';
  /** A scalar's JSON text, or a container's summary ("{3}", "[2]"). */
  text: string;
  expandable: boolean;
  expanded: boolean;
}

function kindOf(v: JsonValue): TreeRow['kind'] {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v as 'object' | 'string' | 'number' | 'boolean';
}

function childPath(path: string, key: string): string {
  return `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

function children(v: JsonValue): [string, JsonValue][] {
  if (Array.isArray(v)) return v.map((c, i) => [String(i), c]);
  if (v !== null && typeof v === 'object') return Object.entries(v);
  return [];
}

function summary(v: JsonValue): string {
  if (Array.isArray(v)) return `[${v.length}]`;
  if (v !== null && typeof v === 'object') return `{${Object.keys(v).length}}`;
  return JSON.stringify(v);
}

/** The rows shown for `root` with the nodes in `expanded` open (the root always is). */
export function visibleRows(root: JsonValue, expanded: ReadonlySet<string>): TreeRow[] {
  const rows: TreeRow[] = [];
  const walk = (v: JsonValue, path: string, key: string | null, depth: number) => {
    const kind = kindOf(v);
    const expandable = (kind === 'object' || kind === 'array') && children(v).length > 0;
    const open = expandable && (path === '' || expanded.has(path));
    rows.push({ path, depth, key, kind, text: summary(v), expandable, expanded: open });
    if (open) for (const [k, c] of children(v)) walk(c, childPath(path, k), k, depth + 1);
  };
  walk(root, '', null, 0);
  return rows;
}

/** Every container path up to `depth` levels: "expand all" for a tree of sane size. */
export function allPaths(root: JsonValue, depth = 32): Set<string> {
  const out = new Set<string>();
  const walk = (v: JsonValue, path: string, d: number) => {
    const kids = children(v);
    if (kids.length === 0 || d > depth) return;
    out.add(path);
    for (const [k, c] of kids) walk(c, childPath(path, k), d + 1);
  };
  walk(root, '', 0);
  return out;
}

export interface TreeSearch {
  /** Paths of matching rows, in document order. */
  matches: string[];
  /** Container paths to expand so that every match shows. */
  expand: Set<string>;
}

/** Case-insensitive search of keys and scalar values (strings without their quotes). */
export function searchTree(root: JsonValue, query: string): TreeSearch {
  const q = query.trim().toLowerCase();
  const matches: string[] = [];
  const expand = new Set<string>();
  if (q === '') return { matches, expand };
  const walk = (v: JsonValue, path: string, key: string | null, ancestors: string[]) => {
    const kids = children(v);
    const scalar = kids.length === 0 && (v === null || typeof v !== 'object') ? (typeof v === 'string' ? v : JSON.stringify(v)) : null;
    if ((key !== null && key.toLowerCase().includes(q)) || (scalar !== null && scalar.toLowerCase().includes(q))) {
      matches.push(path);
      ancestors.forEach((a) => expand.add(a));
    }
    for (const [k, c] of kids) walk(c, childPath(path, k), k, [...ancestors, path]);
  };
  walk(root, '', null, []);
  return { matches, expand };
}

/** Splits `text` around case-insensitive occurrences of `query`, for highlighting. */
export function highlight(text: string, query: string): { text: string; hit: boolean }[] {
  const q = query.trim().toLowerCase();
  if (q === '') return [{ text, hit: false }];
  const out: { text: string; hit: boolean }[] = [];
  const lower = text.toLowerCase();
  let i = 0;
  for (let at = lower.indexOf(q); at !== -1; at = lower.indexOf(q, at + q.length)) {
    if (at > i) out.push({ text: text.slice(i, at), hit: false });
    out.push({ text: text.slice(at, at + q.length), hit: true });
    i = at + q.length;
  }
  if (i < text.length) out.push({ text: text.slice(i), hit: false });
  return out;
}
