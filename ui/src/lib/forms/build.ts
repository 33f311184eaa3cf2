//! The build dialog's form: the Containerfile and context paths typed (absolute or `~/`, on
//! the machine the engine runs on), the build arguments' rows, the request the engine takes,
//! and the build's lines as the log shows them.

import type { BuildEvent } from '../bindings/BuildEvent';
import type { BuildRequest } from '../bindings/BuildRequest';
import { pathError } from './archive';

export interface BuildArgRow {
  key: string;
  value: string;
}

export interface BuildForm {
  containerfile: string;
  /** Blank: the Containerfile's folder. */
  context: string;
  name: string;
  args: BuildArgRow[];
  target: string;
  noCache: boolean;
  /** Pull base images even when they are here (else only when missing). */
  pull: boolean;
}

export interface BuildFormErrors {
  containerfile: string | null;
  context: string | null;
  name: string | null;
  /** One per row of `args`. */
  args: (string | null)[];
  target: string | null;
}

export function emptyBuildForm(): BuildForm {
  return { containerfile: '', context: '', name: '', args: [], target: '', noCache: false, pull: false };
}

/** The folder of a typed Containerfile path (what the context is when left blank), or ''. */
export function containerfileFolder(containerfile: string): string {
  const p = containerfile.trim();
  const slash = p.lastIndexOf('/');
  if (slash < 0 || pathError(p, 'Containerfile') !== null) return '';
  if (slash === 0) return '/';
  return p.slice(0, slash);
}

export function buildFormErrors(f: BuildForm): BuildFormErrors {
  const context = f.context.trim();
  let contextErr: string | null = null;
  if (context !== '' && !context.startsWith('/') && !context.startsWith('~/')) {
    contextErr = `${context}: give an absolute path for the build context (starting with / or ~/)`;
  }
  const name = f.name.trim();
  let nameErr: string | null = null;
  if (/\s/.test(name)) nameErr = `"${name}": an image name has no spaces`;
  else if (/[A-Z]/.test(name.split(':')[0] ?? '')) nameErr = `"${name}": an image name is lowercase`;
  const seen = new Set<string>();
  const args = f.args.map((a) => {
    const key = a.key.trim();
    if (key === '') return a.value === '' ? null : 'give the name of the ARG this value is for';
    if (/[=\s]/.test(key)) return `"${key}": an ARG's name has no "=" or spaces`;
    if (seen.has(key)) return `${key} is given twice`;
    seen.add(key);
    return null;
  });
  const target = f.target.trim();
  return {
    containerfile: pathError(f.containerfile, 'Containerfile'),
    context: contextErr,
    name: nameErr,
    args,
    target: /\s/.test(target) ? `"${target}": a stage's name has no spaces` : null,
  };
}

export function hasErrors(e: BuildFormErrors): boolean {
  return [e.containerfile, e.context, e.name, e.target, ...e.args].some((x) => x !== null);
}

/** The request for a valid form; blank fields are left to the engine (null). */
export function buildRequest(f: BuildForm): BuildRequest {
  const blank = (s: string) => (s.trim() === '' ? null : s.trim());
  return {
    containerfile: f.containerfile.trim(),
    context: blank(f.context),
    name: blank(f.name),
    buildArgs: f.args.filter((a) => a.key.trim() !== '').map((a) => ({ key: a.key.trim(), value: a.value })),
    target: blank(f.target),
    noCache: f.noCache,
    pull: f.pull ? 'always' : 'missing',
  };
}

/** What the log shows for an event, with the terminal's line end (STEP lines bold); null:
 *  nothing (`started`). */
export function buildLogLine(e: BuildEvent): string | null {
  switch (e.type) {
    case 'started':
      return null;
    case 'step':
      return `\x1b[1m${e.line}\x1b[0m\r\n`;
    case 'warning':
      return `\x1b[33m${e.line}\x1b[0m\r\n`;
    default:
      return `${e.line}\r\n`;
  }
}

/** The build's log as written so far, for a terminal that may attach after the first lines
 *  came: it gets them all, then each new one. */
export class LogFeed {
  private chunks: string[] = [];
  private sink: ((text: string) => void) | null = null;

  write(text: string): void {
    this.chunks.push(text);
    this.sink?.(text);
  }

  /** Replays what was written, then forwards; returns the detach function. */
  attach(sink: (text: string) => void): () => void {
    this.chunks.forEach(sink);
    this.sink = sink;
    return () => {
      if (this.sink === sink) this.sink = null;
    };
  }

  clear(): void {
    this.chunks = [];
  }

  text(): string {
    return this.chunks.join('');
  }
}
