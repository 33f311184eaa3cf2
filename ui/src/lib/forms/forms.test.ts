import { describe, expect, it, vi } from 'vitest';
import type { ImageDetails } from '../bindings/ImageDetails';
import { joinCommand, splitCommand } from './command';
import { buildCreateRequest, emptyEnvRow, emptyForm, formFromImage, suggestHostPorts, validateCreateForm } from './create';
import { envStrings, parseEnvFile, parseEnvLines, validateEnv, type EnvRow } from './env';
import { parseExposedPort, parsePort, toPortDtos, validatePorts, type PortRow } from './ports';

let k = 0;
const port = (hostPort: string, containerPort: string, protocol: 'tcp' | 'udp' = 'tcp'): PortRow => ({ key: ++k, hostPort, containerPort, protocol });
const env = (name: string, value: string): EnvRow => ({ key: ++k, name, value });

describe('splitCommand', () => {
  function check(input: string, expected: string[] | string) {
    const r = splitCommand(input);
    if (typeof expected === 'string') expect(r).toEqual({ ok: false, error: expected });
    else expect(r).toEqual({ ok: true, args: expected });
  }
  it.each<[string, string[] | string]>([
    ['', []],
    ['   ', []],
    ['echo hi', ['echo', 'hi']],
    ['  echo   hi  ', ['echo', 'hi']],
    [`sh -c 'echo "a b"; exit 3'`, ['sh', '-c', 'echo "a b"; exit 3']],
    [`echo "it's here"`, ['echo', "it's here"]],
    [`echo "a \\"quoted\\" \\\\ word"`, ['echo', 'a "quoted" \\ word']],
    [`echo "keep \\n as is"`, ['echo', 'keep \\n as is']],
    [`a\\ b c`, ['a b', 'c']],
    [`pre'fix'"suf"x`, ['prefixsufx']],
    [`''`, ['']],
    [`echo "" x`, ['echo', '', 'x']],
    ["line1\nline2\tx", ['line1', 'line2', 'x']],
    [`echo 'unterminated`, 'unterminated single quote'],
    [`echo "unterminated`, 'unterminated double quote'],
    [`echo \\`, 'trailing backslash'],
  ])('%j', (input, expected) => check(input, expected));

  it('joinCommand round-trips through splitCommand', () => {
    for (const args of [['nginx', '-g', 'daemon off;'], ['sh', '-c', `echo 'x' "y" $HOME`], [''], ['a b', 'c\td'], []]) {
      expect(splitCommand(joinCommand(args))).toEqual({ ok: true, args });
    }
    expect(joinCommand(['nginx', '-g', 'daemon off;'])).toBe(`nginx -g 'daemon off;'`);
  });
});

describe('ports', () => {
  it('parses port numbers 1-65535', () => {
    expect(parsePort('80')).toEqual({ ok: true, port: 80 });
    expect(parsePort(' 65535 ')).toEqual({ ok: true, port: 65535 });
    expect(parsePort('0')).toEqual({ ok: false, error: 'must be 1-65535' });
    expect(parsePort('65536')).toEqual({ ok: false, error: 'must be 1-65535' });
    expect(parsePort('8o')).toEqual({ ok: false, error: 'not a number' });
    expect(parsePort('-1')).toEqual({ ok: false, error: 'not a number' });
    expect(parsePort('1.5')).toEqual({ ok: false, error: 'not a number' });
    expect(parsePort('')).toEqual({ ok: false, error: 'required' });
  });

  it('flags bad numbers per field and skips blank rows', () => {
    expect(validatePorts([port('8080', '80'), port('', ''), port('70000', ''), port('x', '53', 'udp'), port('', '0')])).toEqual([
      {},
      {},
      { hostPort: 'host port must be 1-65535', containerPort: 'container port required' },
      { hostPort: 'host port not a number' },
      { containerPort: 'container port must be 1-65535' },
    ]);
  });

  it('flags a host port used twice for the same protocol on every row, but not across protocols', () => {
    const errors = validatePorts([port('8080', '80'), port('8080', '81'), port('8080', '80', 'udp'), port('9090', '90')]);
    expect(errors[0].hostPort).toBe('host port 8080/tcp is used twice');
    expect(errors[1].hostPort).toBe('host port 8080/tcp is used twice');
    expect(errors[2]).toEqual({});
    expect(errors[3]).toEqual({});
  });

  it('turns valid rows into PortDtos on all addresses', () => {
    expect(toPortDtos([port('8080', '80'), port('', ''), port('53', '53', 'udp'), port('', '443')])).toEqual([
      { hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
      { hostIp: '', hostPort: 53, containerPort: 53, protocol: 'udp' },
      { hostIp: '', hostPort: 0, containerPort: 443, protocol: 'tcp' },
    ]);
  });

  it('lets a blank host port mean "any free port", which is never a duplicate', () => {
    expect(validatePorts([port('', '80'), port('', '81')])).toEqual([{}, {}]);
  });

  it('reads exposed ports', () => {
    expect(parseExposedPort('80/tcp')).toEqual({ containerPort: 80, protocol: 'tcp' });
    expect(parseExposedPort('53/UDP')).toEqual({ containerPort: 53, protocol: 'udp' });
    expect(parseExposedPort('8080')).toEqual({ containerPort: 8080, protocol: 'tcp' });
    expect(parseExposedPort('132/sctp')).toBeNull();
    expect(parseExposedPort('http')).toBeNull();
  });
});

describe('env', () => {
  it('validates names and duplicates, skipping blank rows', () => {
    expect(validateEnv([env('A', '1'), env('', ''), env('B=C', 'x'), env('has space', ''), env('A', '2'), env('', 'orphan')])).toEqual([
      null,
      null,
      'name must not contain "="',
      'name must not contain spaces',
      'A is set twice',
      'name required',
    ]);
  });

  it('builds KEY=VALUE strings, keeping "=" and blanks in values', () => {
    expect(envStrings([env(' A ', 'x=y'), env('', ''), env('EMPTY', ''), env('SP', ' padded ')])).toEqual(['A=x=y', 'EMPTY=', 'SP= padded ']);
  });

  it('parses pasted lines', () => {
    expect(parseEnvLines('A=1\n# comment\n\nB=two=2\nC\n')).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: 'two=2' },
      { name: 'C', value: '' },
    ]);
  });

  it('reads an env file as --env-file does', () => {
    expect(parseEnvFile('# db\nDB_HOST=localhost\n  DB_PORT=5432\r\n\nHOME\nbad name=1\n=x\n')).toEqual({
      names: ['DB_HOST', 'DB_PORT', 'HOME'],
      errors: ['line 6: name must not contain spaces', 'line 7: name required'],
    });
  });
});

const nginx: ImageDetails = {
  id: 'f'.repeat(64),
  names: ['docker.io/library/nginx:latest'],
  cmd: ['nginx', '-g', 'daemon off;'],
  entrypoint: ['/docker-entrypoint.sh'],
  env: ['PATH=/usr/bin'],
  workingDir: '',
  exposedPorts: ['80/tcp', '443/tcp', '53/udp', 'bogus'],
  healthcheck: null,
};

describe('create form', () => {
  it('is prefilled from the image', () => {
    const form = formFromImage('nginx', nginx);
    expect(form.command).toBe(`nginx -g 'daemon off;'`);
    expect(form.entrypoint).toBe('/docker-entrypoint.sh');
    expect(form.ports.map((p) => [p.hostPort, p.containerPort, p.protocol])).toEqual([
      ['', '80', 'tcp'],
      ['', '443', 'tcp'],
      ['', '53', 'udp'],
    ]);
    expect(form.start).toBe(true);
    expect(form.restart).toBe('no');
  });

  it('suggests free host ports, preferring the container port and never one another row has', async () => {
    const form = formFromImage('nginx', nginx);
    form.ports.push(port('8443', '8443'));
    const freePort = vi.fn(async (protocol: string, preferred?: number) => {
      if (preferred === 80) return 32768; // 80 is taken on the host
      if (preferred === 443) return 8443; // the engine picked what a row already uses
      if (preferred === undefined) return 40000;
      return preferred;
    });
    const rows = await suggestHostPorts(form.ports, freePort);
    expect(rows.map((r) => r.hostPort)).toEqual(['32768', '40000', '53', '8443']);
    expect(freePort).toHaveBeenCalledWith('udp', 53);
    expect(rows.map((r) => r.key)).toEqual(form.ports.map((r) => r.key));
  });

  it('builds the request: defaults as null, edits as argv', () => {
    const form = formFromImage('nginx', nginx);
    form.ports = [port('8080', '80')];
    form.env = [env('A', '1'), emptyEnvRow()];
    form.envFile = { fileName: 'app.env', contents: 'X=1\n' };
    let r = buildCreateRequest(form);
    expect(r).toEqual({
      ok: true,
      request: {
        image: 'nginx',
        name: null,
        command: null,
        entrypoint: null,
        ports: [{ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
        env: ['A=1'],
        envFile: 'X=1\n',
        restart: 'no',
        remove: false,
        start: true,
        volumes: [],
        healthcheck: null,
        noHealthcheck: false,
        healthOnFailure: 'none',
      },
    });
    form.name = ' web-1 ';
    form.command = `sh -c "echo hi; sleep 1"`;
    form.entrypoint = '';
    form.restart = 'always';
    form.start = false;
    r = buildCreateRequest(form);
    expect(r.ok && r.request).toMatchObject({ name: 'web-1', command: ['sh', '-c', 'echo hi; sleep 1'], entrypoint: null, restart: 'always', start: false });
  });

  it('refuses an invalid form with every error', () => {
    const form = emptyForm('');
    form.name = '-bad';
    form.command = `echo "oops`;
    form.ports = [port('80', '80'), port('80', '81')];
    form.env = [env('A B', '1')];
    form.remove = true;
    form.restart = 'on-failure';
    const r = buildCreateRequest(form);
    expect(r.ok).toBe(false);
    const errors = validateCreateForm(form);
    expect(errors.image).toBe('image required');
    expect(errors.name).toMatch(/"-bad" is not a valid name/);
    expect(errors.command).toBe('unterminated double quote');
    expect(errors.ports[1].hostPort).toBe('host port 80/tcp is used twice');
    expect(errors.env).toEqual(['name must not contain spaces']);
    expect(errors.restart).toMatch(/cannot be combined/);
  });
});
