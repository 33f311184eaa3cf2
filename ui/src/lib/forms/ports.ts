//! Port rows of the create form: text as typed, validated as typed, turned into PortDto.

import type { PortDto } from '../bindings/PortDto';

export type Protocol = PortDto['protocol'];

export interface PortRow {
  /** Stable key for the UI's keyed list. */
  key: number;
  hostPort: string;
  containerPort: string;
  protocol: Protocol;
}

export interface PortRowErrors {
  hostPort?: string;
  containerPort?: string;
}

/** A port number 1-65535 from text, or an error message. */
export function parsePort(text: string): { ok: true; port: number } | { ok: false; error: string } {
  const t = text.trim();
  if (t === '') return { ok: false, error: 'required' };
  if (!/^\d+$/.test(t)) return { ok: false, error: 'not a number' };
  const port = Number(t);
  if (port < 1 || port > 65535) return { ok: false, error: 'must be 1-65535' };
  return { ok: true, port };
}

export function isBlankRow(row: PortRow): boolean {
  return row.hostPort.trim() === '' && row.containerPort.trim() === '';
}

/**
 * The errors of each row (same order as `rows`; `{}` when fine). Blank rows are ignored; a
 * blank host port lets the engine pick one (PortDto hostPort 0); a host port published twice
 * for the same protocol is an error on every row that has it.
 */
export function validatePorts(rows: readonly PortRow[]): PortRowErrors[] {
  const errors: PortRowErrors[] = rows.map(() => ({}));
  const seen = new Map<string, number[]>();
  rows.forEach((row, i) => {
    if (isBlankRow(row)) return;
    const host = parsePort(row.hostPort);
    const container = parsePort(row.containerPort);
    if (!host.ok && row.hostPort.trim() !== '') errors[i].hostPort = `host port ${host.error}`;
    if (!container.ok) errors[i].containerPort = `container port ${container.error}`;
    if (host.ok) {
      const k = `${host.port}/${row.protocol}`;
      seen.set(k, [...(seen.get(k) ?? []), i]);
    }
  });
  for (const [k, indexes] of seen) {
    if (indexes.length < 2) continue;
    for (const i of indexes) errors[i].hostPort = `host port ${k} is used twice`;
  }
  return errors;
}

export function hasErrors(errors: readonly PortRowErrors[]): boolean {
  return errors.some((e) => e.hostPort !== undefined || e.containerPort !== undefined);
}

/** The PortDtos of valid, non-blank rows (published on all addresses; host port 0 = any). */
export function toPortDtos(rows: readonly PortRow[]): PortDto[] {
  const out: PortDto[] = [];
  for (const row of rows) {
    if (isBlankRow(row)) continue;
    const host = row.hostPort.trim() === '' ? ({ ok: true, port: 0 } as const) : parsePort(row.hostPort);
    const container = parsePort(row.containerPort);
    if (host.ok && container.ok) {
      out.push({ hostIp: '', hostPort: host.port, containerPort: container.port, protocol: row.protocol });
    }
  }
  return out;
}

/** An image's exposed port ("80/tcp", "53/udp", "8080") as a container port and protocol. */
export function parseExposedPort(spec: string): { containerPort: number; protocol: Protocol } | null {
  const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/i.exec(spec.trim());
  if (!m) return null;
  const port = Number(m[1]);
  if (port < 1 || port > 65535) return null;
  const proto = (m[2] ?? 'tcp').toLowerCase();
  if (proto !== 'tcp' && proto !== 'udp') return null;
  return { containerPort: port, protocol: proto };
}
