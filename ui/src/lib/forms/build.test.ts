import { describe, expect, it } from 'vitest';
import { buildFormErrors, buildLogLine, buildRequest, containerfileFolder, emptyBuildForm, hasErrors, type BuildForm } from './build';

const form = (over: Partial<BuildForm> = {}): BuildForm => ({ ...emptyBuildForm(), containerfile: '/src/app/Containerfile', ...over });

describe('build form', () => {
  it('defaults the context to the Containerfile folder', () => {
    expect(containerfileFolder(' /src/app/Containerfile ')).toBe('/src/app');
    expect(containerfileFolder('~/app/Dockerfile')).toBe('~/app');
    expect(containerfileFolder('/Containerfile')).toBe('/');
    expect(containerfileFolder('Containerfile')).toBe('');
    expect(containerfileFolder('')).toBe('');
  });

  it('says what is wrong with each field, and nothing for a good form', () => {
    expect(hasErrors(buildFormErrors(form()))).toBe(false);
    expect(buildFormErrors(form({ containerfile: '' })).containerfile).toBe('enter the path of the Containerfile');
    expect(buildFormErrors(form({ containerfile: 'Containerfile' })).containerfile).toMatch(/give an absolute path for the Containerfile/);
    expect(buildFormErrors(form({ context: 'src' })).context).toBe('src: give an absolute path for the build context (starting with / or ~/)');
    expect(buildFormErrors(form({ context: '~/src/' })).context).toBeNull();
    expect(buildFormErrors(form({ name: 'My App' })).name).toBe('"My App": an image name has no spaces');
    expect(buildFormErrors(form({ name: 'MyApp:1' })).name).toBe('"MyApp:1": an image name is lowercase');
    expect(buildFormErrors(form({ target: 'a b' })).target).toMatch(/no spaces/);
    const rows = [
      { key: 'A', value: '1' },
      { key: '', value: '' },
      { key: '', value: 'orphan' },
      { key: 'A', value: '2' },
      { key: 'B=1', value: '' },
    ];
    expect(buildFormErrors(form({ args: rows })).args).toEqual([
      null,
      null,
      'give the name of the ARG this value is for',
      'A is given twice',
      `"B=1": an ARG's name has no "=" or spaces`,
    ]);
  });

  it('makes the request: blanks left to the engine, empty rows left out', () => {
    expect(buildRequest(form())).toEqual({
      containerfile: '/src/app/Containerfile',
      context: null,
      name: null,
      buildArgs: [],
      target: null,
      noCache: false,
      pull: 'missing',
    });
    const r = buildRequest(
      form({ context: ' /src ', name: ' app:1 ', args: [{ key: ' A ', value: ' x ' }, { key: '', value: '' }], target: 'final', noCache: true, pull: true }),
    );
    expect(r).toEqual({
      containerfile: '/src/app/Containerfile',
      context: '/src',
      name: 'app:1',
      buildArgs: [{ key: 'A', value: ' x ' }],
      target: 'final',
      noCache: true,
      pull: 'always',
    });
  });

  it('shows each event as its line, STEP lines bold', () => {
    expect(buildLogLine({ type: 'started', build: 'b' })).toBeNull();
    expect(buildLogLine({ type: 'step', stage: null, step: 1, steps: 2, text: 'FROM x', line: 'STEP 1/2: FROM x' })).toBe('\x1b[1mSTEP 1/2: FROM x\x1b[0m\r\n');
    expect(buildLogLine({ type: 'output', line: 'hi' })).toBe('hi\r\n');
    expect(buildLogLine({ type: 'tagged', name: 'localhost/a:latest', line: 'Successfully tagged localhost/a:latest' })).toBe('Successfully tagged localhost/a:latest\r\n');
  });
});
