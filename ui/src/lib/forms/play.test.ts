import { describe, expect, it } from 'vitest';
import { composeFileError, composeLogText, emptyKubeForm, kubeFormError, kubeRequest, playedSummary } from './play';

describe('the Play forms', () => {
  it('sends only the source chosen, and checks it', () => {
    const f = { ...emptyKubeForm(), path: ' ~/web.yaml ', yaml: 'kind: Pod' };
    expect(kubeFormError(f)).toBeNull();
    expect(kubeRequest(f)).toEqual({ path: '~/web.yaml', yaml: '', replace: false, start: true });
    expect(kubeRequest({ ...f, source: 'paste', replace: true, start: false })).toEqual({ path: '', yaml: 'kind: Pod', replace: true, start: false });
    expect(kubeFormError({ ...f, path: 'web.yaml' })).toBe('web.yaml: give an absolute path for the Kubernetes YAML (starting with / or ~/)');
    expect(kubeFormError({ ...f, path: '' })).toBe('enter the path of the Kubernetes YAML');
    expect(kubeFormError({ ...f, source: 'paste', yaml: ' \n' })).toBe('paste the Kubernetes YAML (a Pod, a Deployment, …)');
    expect(composeFileError('compose.yaml')).toMatch(/give an absolute path for the compose file/);
  });

  it('says what kube play made', () => {
    const c = (name: string) => ({ id: name, name });
    expect(playedSummary({ pods: [{ id: 'p', name: 'web', containers: [c('web-a'), c('web-b')] }], volumes: [] })).toBe('Played pod web (2 containers)');
    expect(playedSummary({ pods: [{ id: 'p', name: 'a', containers: [c('a-x')] }, { id: 'q', name: 'b', containers: [] }], volumes: ['data'] })).toBe(
      'Played pods a (1 container), b (0 containers) and 1 volume',
    );
    expect(playedSummary({ pods: [], volumes: [] })).toBe('Played nothing');
  });

  it("writes the compose run's lines for the terminal", () => {
    expect(composeLogText({ type: 'started', run: 'r', command: 'berth compose -f /a/compose.yaml up -d' })).toBe('\x1b[36m$ berth compose -f /a/compose.yaml up -d\x1b[0m\r\n');
    expect(composeLogText({ type: 'output', line: 'Creating a_web_1 ... done' })).toBe('Creating a_web_1 ... done\r\n');
  });
});
