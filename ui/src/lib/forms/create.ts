//! The create/run form as plain data: prefilled from an image, validated as typed, and turned
//! into the contract's CreateRequest. The Svelte form only binds fields to this.

import type { CreateRequest } from '../bindings/CreateRequest';
import type { HealthCheck } from '../bindings/HealthCheck';
import type { ImageDetails } from '../bindings/ImageDetails';
import type { RestartPolicy } from '../bindings/RestartPolicy';
import { joinCommand, splitCommand } from './command';
import { envStrings, validateEnv, type EnvRow } from './env';
import { emptyHealthForm, healthFormIsValid, healthRequest, validateHealthForm, type HealthForm, type HealthFormErrors } from './health';
import { validateVolumes, volumeStrings, type VolumeRow } from './volumes';
import { hasErrors, parseExposedPort, toPortDtos, validatePorts, type PortRow, type PortRowErrors, type Protocol } from './ports';

export interface CreateForm {
  image: string;
  name: string;
  /** The command line as typed; equal to `defaultCommand` means "the image's". */
  command: string;
  entrypoint: string;
  defaultCommand: string;
  defaultEntrypoint: string;
  ports: PortRow[];
  env: EnvRow[];
  envFile: { fileName: string; contents: string } | null;
  volumes: VolumeRow[];
  restart: RestartPolicy;
  remove: boolean;
  start: boolean;
  health: HealthForm;
  /** `--network`: blank for the default network. */
  network: string;
  /** `--label`s, one `KEY=VALUE` a line. */
  labels: string;
  /** The image's own healthcheck: null when it has none, undefined until the image is read. */
  imageHealthcheck?: HealthCheck | null;
}

export interface CreateFormErrors {
  image?: string;
  name?: string;
  command?: string;
  entrypoint?: string;
  restart?: string;
  labels?: string;
  ports: PortRowErrors[];
  env: (string | null)[];
  volumes: (string | null)[];
  health: HealthFormErrors;
}

export const RESTART_POLICIES: { value: RestartPolicy; label: string }[] = [
  { value: 'no', label: 'Never' },
  { value: 'on-failure', label: 'On failure' },
  { value: 'always', label: 'Always' },
  { value: 'unless-stopped', label: 'Unless stopped' },
];

let nextKey = 1;
export function rowKey(): number {
  return nextKey++;
}

export function emptyPortRow(protocol: Protocol = 'tcp'): PortRow {
  return { key: rowKey(), hostPort: '', containerPort: '', protocol };
}

export function emptyVolumeRow(): VolumeRow {
  return { key: rowKey(), value: '' };
}

export function emptyEnvRow(): EnvRow {
  return { key: rowKey(), name: '', value: '' };
}

export function emptyForm(image = ''): CreateForm {
  return {
    image,
    name: '',
    command: '',
    entrypoint: '',
    defaultCommand: '',
    defaultEntrypoint: '',
    ports: [],
    env: [],
    envFile: null,
    volumes: [],
    restart: 'no',
    remove: false,
    start: true,
    health: emptyHealthForm(),
    network: '',
    labels: '',
  };
}

/**
 * The form for Clone or Edit, from a container's recorded options (`container_create_request`):
 * its command and entrypoint as recorded (blank: the image's), its ports, env, volumes,
 * network, restart policy and labels. Not started by default.
 */
export function formFromRequest(r: CreateRequest): CreateForm {
  const form = emptyForm(r.image);
  form.name = r.name ?? '';
  form.command = r.command ? joinCommand(r.command) : '';
  form.entrypoint = r.entrypoint ? joinCommand(r.entrypoint) : '';
  form.ports = r.ports.map((p) => ({
    key: rowKey(),
    hostPort: p.hostPort === 0 ? '' : String(p.hostPort),
    containerPort: String(p.containerPort),
    protocol: p.protocol,
  }));
  form.env = r.env.map((kv) => {
    const at = kv.indexOf('=');
    return { key: rowKey(), name: at < 0 ? kv : kv.slice(0, at), value: at < 0 ? '' : kv.slice(at + 1) };
  });
  form.volumes = r.volumes.map((value) => ({ key: rowKey(), value }));
  form.restart = r.restart;
  form.remove = r.remove;
  form.start = r.start;
  form.network = r.network ?? '';
  form.labels = (r.labels ?? []).join('\n');
  form.health.onFailure = r.healthOnFailure;
  form.health.disabled = r.noHealthcheck;
  return form;
}

/** The form's label lines that are not blank. */
export function labelLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/**
 * The form for running `reference`, prefilled from its details: command and entrypoint, and a
 * port row per exposed port with the host port left blank for `suggestHostPorts` to fill.
 */
export function formFromImage(reference: string, details: ImageDetails): CreateForm {
  const form = emptyForm(reference);
  form.command = form.defaultCommand = joinCommand(details.cmd);
  form.entrypoint = form.defaultEntrypoint = joinCommand(details.entrypoint);
  form.imageHealthcheck = details.healthcheck;
  for (const spec of details.exposedPorts) {
    const p = parseExposedPort(spec);
    if (p) form.ports.push({ key: rowKey(), hostPort: '', containerPort: String(p.containerPort), protocol: p.protocol });
  }
  return form;
}

/**
 * Fills blank host ports with ports the host has free, preferring the container's own port
 * (`freePort` is the backend's free_port). Never suggests a port another row already uses.
 */
export async function suggestHostPorts(
  rows: readonly PortRow[],
  freePort: (protocol: Protocol, preferred?: number) => Promise<number>,
): Promise<PortRow[]> {
  const taken = new Set(rows.filter((r) => r.hostPort.trim() !== '').map((r) => `${r.hostPort.trim()}/${r.protocol}`));
  const out: PortRow[] = [];
  for (const row of rows) {
    if (row.hostPort.trim() !== '' || row.containerPort.trim() === '') {
      out.push(row);
      continue;
    }
    const preferred = Number(row.containerPort);
    let port = await freePort(row.protocol, Number.isInteger(preferred) && preferred > 0 ? preferred : undefined);
    if (taken.has(`${port}/${row.protocol}`)) port = await freePort(row.protocol);
    taken.add(`${port}/${row.protocol}`);
    out.push({ ...row, hostPort: String(port) });
  }
  return out;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function validateCreateForm(form: CreateForm): CreateFormErrors {
  const errors: CreateFormErrors = {
    ports: validatePorts(form.ports),
    env: validateEnv(form.env),
    volumes: validateVolumes(form.volumes),
    health: validateHealthForm(form.health, form.imageHealthcheck),
  };
  if (form.image.trim() === '') errors.image = 'image required';
  const name = form.name.trim();
  if (name !== '' && !NAME.test(name)) {
    errors.name = `"${name}" is not a valid name: use letters, digits, "_", "." and "-", starting with a letter or digit`;
  }
  const command = splitCommand(form.command);
  if (!command.ok) errors.command = command.error;
  const entrypoint = splitCommand(form.entrypoint);
  if (!entrypoint.ok) errors.entrypoint = entrypoint.error;
  const badLabel = labelLines(form.labels ?? '').find((l) => !/^[^=\s][^=]*=/.test(l));
  if (badLabel !== undefined) errors.labels = `label "${badLabel}": use KEY=VALUE`;
  if (form.remove && form.restart !== 'no') {
    errors.restart = '"remove when stopped" cannot be combined with a restart policy';
  }
  return errors;
}

export function formIsValid(errors: CreateFormErrors): boolean {
  return (
    errors.image === undefined &&
    errors.name === undefined &&
    errors.command === undefined &&
    errors.entrypoint === undefined &&
    errors.restart === undefined &&
    errors.labels === undefined &&
    !hasErrors(errors.ports) &&
    errors.env.every((e) => e === null) &&
    errors.volumes.every((e) => e === null) &&
    healthFormIsValid(errors.health)
  );
}

/** A command field as sent: null (the image's own) when left as prefilled or cleared. */
function argsOrDefault(text: string, prefilled: string): string[] | null {
  if (text.trim() === prefilled.trim()) return null;
  const split = splitCommand(text);
  if (!split.ok || split.args.length === 0) return null;
  return split.args;
}

export type BuildResult = { ok: true; request: CreateRequest } | { ok: false; errors: CreateFormErrors };

export function buildCreateRequest(form: CreateForm): BuildResult {
  const errors = validateCreateForm(form);
  if (!formIsValid(errors)) return { ok: false, errors };
  const name = form.name.trim();
  return {
    ok: true,
    request: {
      image: form.image.trim(),
      name: name === '' ? null : name,
      command: argsOrDefault(form.command, form.defaultCommand),
      entrypoint: argsOrDefault(form.entrypoint, form.defaultEntrypoint),
      ports: toPortDtos(form.ports),
      env: envStrings(form.env),
      envFile: form.envFile ? form.envFile.contents : null,
      restart: form.restart,
      remove: form.remove,
      start: form.start,
      volumes: volumeStrings(form.volumes),
      ...healthRequest(form.health),
      ...((form.network ?? '').trim() !== '' ? { network: form.network.trim() } : {}),
      ...(labelLines(form.labels ?? '').length > 0 ? { labels: labelLines(form.labels) } : {}),
    },
  };
}
