//! The Create network form, checked as typed the way the engine checks `network create`: a
//! name of [a-zA-Z0-9][a-zA-Z0-9_.-]*, not a reserved one; an optional IPv4 subnet of /30 or
//! wider; an optional gateway, a host address of that subnet; labels, one KEY=VALUE a line.
//! What only the engine knows (a name taken, a subnet overlapping another) comes back from it.

export interface NetworkForm {
  name: string;
  subnet: string;
  gateway: string;
  /** One label a line: KEY=VALUE (or KEY, an empty value). */
  labels: string;
}

export interface NetworkFormErrors {
  name: string | null;
  subnet: string | null;
  gateway: string | null;
  labels: string | null;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** The names `network create` refuses (the default network is `berth`). */
const RESERVED = new Set(['bridge', 'host', 'none', 'default', 'berth']);

/** An IPv4 address as a number, or null when `text` is not one. */
export function parseIpv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    n = n * 256 + Number(p);
  }
  return n;
}

/** A subnet as its network address and prefix length, or null. */
export function parseSubnet(text: string): { network: number; prefix: number } | null {
  const [addr, prefix, ...rest] = text.split('/');
  if (rest.length > 0 || prefix === undefined || !/^\d{1,2}$/.test(prefix) || Number(prefix) > 32) return null;
  const ip = parseIpv4(addr);
  if (ip === null) return null;
  const len = Number(prefix);
  const size = 2 ** (32 - len);
  return { network: ip - (ip % size), prefix: len };
}

export function validateNetwork(f: NetworkForm): NetworkFormErrors {
  const errors: NetworkFormErrors = { name: null, subnet: null, gateway: null, labels: null };
  const name = f.name.trim();
  if (name === '') errors.name = 'enter a name';
  else if (!NAME.test(name)) errors.name = `"${name}" is not a valid network name: use letters, digits, "_", "." and "-", starting with a letter or digit`;
  else if (RESERVED.has(name)) errors.name = `"${name}" is a reserved network name: choose another`;

  const subnetText = f.subnet.trim();
  const subnet = subnetText === '' ? null : parseSubnet(subnetText);
  if (subnetText !== '' && subnet === null) {
    errors.subnet = `"${subnetText}" is not an IPv4 subnet: write an address and a prefix, like 10.90.0.0/24`;
  } else if (subnet && subnet.prefix > 30) {
    errors.subnet = `${subnetText} is too small: use a prefix of /30 or shorter`;
  }

  const gatewayText = f.gateway.trim();
  if (gatewayText !== '') {
    const gw = parseIpv4(gatewayText);
    if (gw === null) errors.gateway = `"${gatewayText}" is not an IPv4 address, like 10.90.0.1`;
    else if (subnetText === '') errors.gateway = 'a gateway needs its subnet: give the subnet too';
    else if (subnet && !errors.subnet) {
      const size = 2 ** (32 - subnet.prefix);
      if (gw < subnet.network || gw >= subnet.network + size || gw === subnet.network || gw === subnet.network + size - 1) {
        errors.gateway = `${gatewayText} is not a host address of ${subnetText}`;
      }
    }
  }

  for (const line of labelLines(f.labels)) {
    const key = line.split('=')[0].trim();
    if (key === '') {
      errors.labels = `label "${line}" has no key: write KEY=VALUE`;
      break;
    }
  }
  return errors;
}

export function hasErrors(e: NetworkFormErrors): boolean {
  return Object.values(e).some((v) => v !== null);
}

/** The labels' non-blank lines, trimmed: what `createNetwork` takes. */
export function labelLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/** The labels of a network as text lines, for its Summary. */
export function labelList(labels: Partial<Record<string, string>>): string[] {
  return Object.entries(labels).map(([k, v]) => (v ? `${k}=${v}` : k));
}
