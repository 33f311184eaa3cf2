import { describe, expect, it } from 'vitest';
import { decodeBase64, InputQueue } from './terminal';

describe('terminal', () => {
  it('sends input one request at a time, in order, joining what waits', async () => {
    const sent: string[] = [];
    const releases: (() => void)[] = [];
    const q = new InputQueue((d) => {
      sent.push(d);
      return new Promise<void>((r) => releases.push(r));
    });
    q.push('p');
    q.push('r');
    q.push('i');
    expect(sent).toEqual(['p']);
    releases.shift()!();
    await Promise.resolve();
    await Promise.resolve();
    expect(sent).toEqual(['p', 'ri']);
    q.push('n');
    releases.shift()!();
    await new Promise((r) => setTimeout(r, 0));
    expect(sent).toEqual(['p', 'ri', 'n']);
  });

  it('keeps going after a failed send and decodes output bytes', async () => {
    const sent: string[] = [];
    const q = new InputQueue(async (d) => {
      sent.push(d);
      if (d === 'a') throw new Error('gone');
    });
    q.push('a');
    q.push('b');
    await new Promise((r) => setTimeout(r, 0));
    expect(sent).toEqual(['a', 'b']);
    expect(new TextDecoder().decode(decodeBase64('w6k='))).toBe('é');
  });
});
