//! The Play dialogs' forms: Kubernetes YAML from a file's path or pasted (with `--replace` and
//! `--start`), what `kube play` made as a line of words, and a compose run's output as lines
//! for the log.

import type { ComposeEvent } from '../bindings/ComposeEvent';
import type { KubePlayed } from '../bindings/KubePlayed';
import type { KubeRequest } from '../bindings/KubeRequest';
import { pathError } from './archive';

export interface KubeForm {
  /** Where the YAML comes from: a file on the machine the engine runs on, or pasted. */
  source: 'file' | 'paste';
  path: string;
  yaml: string;
  replace: boolean;
  start: boolean;
}

export function emptyKubeForm(): KubeForm {
  return { source: 'file', path: '', yaml: '', replace: false, start: true };
}

/** What keeps the form from being sent, or null. */
export function kubeFormError(f: KubeForm): string | null {
  if (f.source === 'file') return pathError(f.path, 'Kubernetes YAML');
  return f.yaml.trim() === '' ? 'paste the Kubernetes YAML (a Pod, a Deployment, …)' : null;
}

/** The request of the form: only the source chosen is sent. */
export function kubeRequest(f: KubeForm): KubeRequest {
  return {
    path: f.source === 'file' ? f.path.trim() : '',
    yaml: f.source === 'paste' ? f.yaml : '',
    replace: f.replace,
    start: f.start,
  };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** A line for the toast: "Played pod web (2 containers) and 1 volume". */
export function playedSummary(p: KubePlayed): string {
  const pods = p.pods.map((pod) => `${pod.name} (${plural(pod.containers.length, 'container')})`);
  const what = pods.length === 0 ? 'nothing' : `pod${pods.length === 1 ? '' : 's'} ${pods.join(', ')}`;
  return `Played ${what}${p.volumes.length > 0 ? ` and ${plural(p.volumes.length, 'volume')}` : ''}`;
}

export const composeFileError = (path: string) => pathError(path, 'compose file');

/** The text a compose event adds to the log: the command line in cyan, then each line. */
export function composeLogText(e: ComposeEvent): string {
  if (e.type === 'started') return `\x1b[36m$ ${e.command}\x1b[0m\r\n`;
  return `${e.line}\r\n`;
}
