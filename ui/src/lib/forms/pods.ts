//! The Create pod form, checked as typed the way `pod create` checks it: an optional name of
//! [a-zA-Z0-9][a-zA-Z0-9_.-]*; published ports as `-p` writes them, one a line
//! (`[[IP:][HOST_PORT]:]CONTAINER_PORT[/PROTOCOL]`); the namespaces to share (`--share`: a list
//! of cgroup, ipc, net, pid, uts or none, `+` adding to the default ipc,net,uts); an optional
//! host name; labels, one KEY=VALUE a line. What only the engine knows (a name taken, a port
//! in use) comes back from it.

import type { CreatePodRequest } from '../backend/backend';
import { labelLines } from './networks';

export interface PodForm {
  name: string;
  /** One `-p` a line. */
  ports: string;
  share: string;
  hostname: string;
  labels: string;
}

export interface PodFormErrors {
  name: string | null;
  ports: string | null;
  share: string | null;
  hostname: string | null;
  labels: string | null;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const NAMESPACES = ['cgroup', 'ipc', 'net', 'pid', 'uts'];
/** `[[IP:][HOST_PORT]:]CONTAINER_PORT[/PROTOCOL]`, ranges allowed (`8080-8081:80-81`). */
const PORT = /^(?:(?:(\d{1,3}(?:\.\d{1,3}){3})?:)?(\d{1,5}(?:-\d{1,5})?)?:)?(\d{1,5}(?:-\d{1,5})?)(?:\/(tcp|udp))?$/;
const HOSTNAME = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,62})(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,62}))*$/;

function portsOk(spec: string): boolean {
  const m = PORT.exec(spec);
  if (!m) return false;
  const numbers = [m[2], m[3]].filter((p): p is string => p !== undefined).flatMap((p) => p.split('-').map(Number));
  return numbers.every((n) => n >= 1 && n <= 65535);
}

export function validatePod(f: PodForm): PodFormErrors {
  const errors: PodFormErrors = { name: null, ports: null, share: null, hostname: null, labels: null };
  const name = f.name.trim();
  if (name !== '' && !NAME.test(name)) {
    errors.name = `"${name}" is not a valid pod name: use letters, digits, "_", "." and "-", starting with a letter or digit`;
  }
  for (const p of labelLines(f.ports)) {
    if (!portsOk(p)) {
      errors.ports = `"${p}" is not a port to publish: write [[IP:][HOST_PORT]:]CONTAINER_PORT[/tcp|udp], like 8080:80`;
      break;
    }
  }
  const share = f.share.trim().replace(/^\+/, '');
  for (const word of share.split(',').map((w) => w.trim()).filter((w) => w !== '')) {
    if (word !== 'none' && !NAMESPACES.includes(word)) {
      errors.share = `invalid kernel namespace to share: ${word}. Options are: cgroup, ipc, net, pid, uts or none`;
      break;
    }
  }
  const hostname = f.hostname.trim();
  if (hostname !== '' && (hostname.length > 253 || !HOSTNAME.test(hostname))) {
    errors.hostname = `"${hostname}" is not a host name: letters, digits and "-", in parts separated by dots`;
  }
  for (const line of labelLines(f.labels)) {
    if (line.split('=')[0].trim() === '') {
      errors.labels = `label "${line}" has no key: write KEY=VALUE`;
      break;
    }
  }
  return errors;
}

export function hasErrors(e: PodFormErrors): boolean {
  return Object.values(e).some((v) => v !== null);
}

/** What `createPod` takes: the lines split, the rest trimmed (blank: `pod create`'s default). */
export function podRequest(f: PodForm): CreatePodRequest {
  return { name: f.name.trim(), labels: labelLines(f.labels), ports: labelLines(f.ports), share: f.share.trim(), hostname: f.hostname.trim() };
}

/** The tone of a pod's state, as a container's status badge has: running, some, or none. */
export function podTone(state: string): 'ok' | 'warn' | 'idle' {
  if (state === 'Running') return 'ok';
  if (state === 'Degraded' || state === 'Paused') return 'warn';
  return 'idle';
}
