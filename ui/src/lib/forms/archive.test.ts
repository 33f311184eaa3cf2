import { describe, expect, it } from 'vitest';
import { importChanges, loadedLines, pathError, suggestedExportPath, suggestedSavePath } from './archive';

describe('archive paths', () => {
  it('takes absolute and home paths, and says what is wrong with others', () => {
    const check = (path: string, expected: string | null) => expect(pathError(path, 'archive')).toBe(expected);
    check('/tmp/a.tar', null);
    check(' ~/images/a.tar ', null);
    check('', 'enter the path of the archive');
    check('a.tar', 'a.tar: give an absolute path for the archive (starting with / or ~/)');
    check('~user/a.tar', '~user/a.tar: give an absolute path for the archive (starting with / or ~/)');
    check('/tmp/', '/tmp/: name a file, not a directory');
  });

  it('suggests a file named after the image or container', () => {
    const img = (names: string[]) => ({ names, shortId: '0123456789ab' });
    expect(suggestedSavePath(img(['127.0.0.1:5000/team/app:1']), 'docker-archive')).toBe('~/app-1.tar');
    expect(suggestedSavePath(img(['docker.io/library/alpine:3.20']), 'oci-archive')).toBe('~/alpine-3.20-oci.tar');
    expect(suggestedSavePath(img([]), 'docker-archive')).toBe('~/0123456789ab.tar');
    expect(suggestedExportPath('web 1')).toBe('~/web_1.tar');
  });
});

describe('import command', () => {
  it('becomes a CMD in exec form', () => {
    expect(importChanges('  ')).toEqual({ ok: true, changes: [] });
    expect(importChanges('cat /etc/passwd')).toEqual({ ok: true, changes: ['CMD ["cat","/etc/passwd"]'] });
    expect(importChanges(`sh -c 'echo "hi there"'`)).toEqual({ ok: true, changes: ['CMD ["sh","-c","echo \\"hi there\\""]'] });
    expect(importChanges('["sh", "-c", "echo hi"]')).toEqual({ ok: true, changes: ['CMD ["sh","-c","echo hi"]'] });
  });

  it('refuses what it cannot read', () => {
    expect(importChanges('[sh]')).toMatchObject({ ok: false, error: expect.stringMatching(/JSON array of strings/) });
    expect(importChanges('[]')).toMatchObject({ ok: false });
    expect(importChanges("echo 'open")).toEqual({ ok: false, error: 'unterminated single quote' });
  });
});

describe('loaded images', () => {
  it('reads as berth load prints them', () => {
    expect(
      loadedLines([
        { id: 'abc', names: ['localhost/a:1', 'localhost/a:latest'] },
        { id: 'def', names: [] },
      ]),
    ).toEqual(['Loaded image: localhost/a:1', 'Loaded image: localhost/a:latest', 'Loaded image: sha256:def']);
  });
});
