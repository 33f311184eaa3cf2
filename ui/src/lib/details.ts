//! What the details view's Summary reads out of `inspect_container` (Podman's field names),
//! and the short history of stats samples its sparklines draw.

export interface MountRow {
  type: string;
  source: string;
  destination: string;
  readOnly: boolean;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | null => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : null);

/** The environment the container's process gets. */
export function envOf(inspect: unknown): string[] {
  const env = obj(obj(inspect)?.Config)?.Env;
  return Array.isArray(env) ? env.filter((e): e is string => typeof e === 'string') : [];
}

// Mounts every container gets from the engine itself: not what a user asked for.
const SYSTEM = new Set(['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup', '/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/run/.containerenv']);

/** Volumes and bind mounts: `Mounts` when inspect has it, else the OCI spec's user mounts. */
export function mountsOf(inspect: unknown): MountRow[] {
  const root = obj(inspect);
  const listed = root?.Mounts;
  if (Array.isArray(listed)) {
    return listed.map(obj).filter((m): m is Obj => m !== null).map((m) => ({
      type: String(m.Type ?? 'bind'),
      source: String(m.Name ?? m.Source ?? ''),
      destination: String(m.Destination ?? ''),
      readOnly: m.RW === false,
    }));
  }
  const spec = obj(root?.OCISpec);
  const mounts = Array.isArray(spec?.mounts) ? spec.mounts : [];
  return mounts
    .map(obj)
    .filter((m): m is Obj => m !== null && typeof m.destination === 'string' && !SYSTEM.has(m.destination as string))
    .filter((m) => m.type === 'bind' || m.type === 'tmpfs' || (Array.isArray(m.options) && m.options.includes('bind')))
    .map((m) => {
      const options = Array.isArray(m.options) ? (m.options as string[]) : [];
      const source = String(m.source ?? '');
      const volume = /\/volumes\/([^/]+)\/_data$/.exec(source);
      return {
        type: m.type === 'tmpfs' ? 'tmpfs' : volume ? 'volume' : 'bind',
        source: volume ? volume[1] : source,
        destination: String(m.destination),
        readOnly: options.includes('ro'),
      };
    });
}

/** The last `size` values of a series, and the SVG polyline points to draw them. */
export class SampleHistory {
  private values: number[] = [];
  constructor(readonly size = 60) {}

  push(value: number): void {
    this.values.push(value);
    if (this.values.length > this.size) this.values.splice(0, this.values.length - this.size);
  }

  get length(): number {
    return this.values.length;
  }

  get last(): number | undefined {
    return this.values.at(-1);
  }

  get max(): number {
    return this.values.reduce((m, v) => Math.max(m, v), 0);
  }

  /** The polygon under the line, for a faint fill. */
  area(width: number, height: number, ceiling = this.max): string {
    const line = this.points(width, height, ceiling);
    if (line === '') return '';
    const firstX = line.slice(0, line.indexOf(','));
    return `${line} ${width.toFixed(1)},${height} ${firstX},${height}`;
  }

  /** Points in a `width`×`height` box, newest at the right; `ceiling` is the top value. */
  points(width: number, height: number, ceiling = this.max): string {
    if (this.values.length === 0) return '';
    const top = ceiling > 0 ? ceiling : 1;
    const step = width / Math.max(1, this.size - 1);
    const offset = (this.size - this.values.length) * step;
    return this.values
      .map((v, i) => `${(offset + i * step).toFixed(1)},${(height - (Math.min(v, top) / top) * height).toFixed(1)}`)
      .join(' ');
  }
}
