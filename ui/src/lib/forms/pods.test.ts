import { describe, expect, it } from 'vitest';
import { hasErrors, podRequest, podTone, validatePod, type PodForm } from './pods';

const blank: PodForm = { name: '', ports: '', share: '', hostname: '', labels: '' };

describe('the Create pod form', () => {
  it('takes every field blank: pod create’s defaults', () => {
    expect(hasErrors(validatePod(blank))).toBe(false);
    expect(podRequest(blank)).toEqual({ name: '', labels: [], ports: [], share: '', hostname: '' });
  });

  it('checks each field as pod create does, naming the input', () => {
    const check = (over: Partial<PodForm>) => validatePod({ ...blank, ...over });
    expect(check({ name: '-web' }).name).toBe('"-web" is not a valid pod name: use letters, digits, "_", "." and "-", starting with a letter or digit');
    expect(check({ name: 'web.1_a-b' }).name).toBeNull();
    for (const ok of ['80', '8080:80', '127.0.0.1:8080:80', '127.0.0.1::80', '53/udp', '8080-8081:80-81/tcp']) expect(check({ ports: ok }).ports, ok).toBeNull();
    for (const bad of ['80:x', '0', '70000:80', '80/sctp', 'a:b:c:d']) expect(check({ ports: `8080:80\n${bad}` }).ports, bad).toBe(`"${bad}" is not a port to publish: write [[IP:][HOST_PORT]:]CONTAINER_PORT[/tcp|udp], like 8080:80`);
    expect(check({ share: 'net,mnt' }).share).toBe('invalid kernel namespace to share: mnt. Options are: cgroup, ipc, net, pid, uts or none');
    expect(check({ share: '+pid' }).share).toBeNull();
    expect(check({ share: 'none' }).share).toBeNull();
    expect(check({ hostname: 'box_1' }).hostname).toBe('"box_1" is not a host name: letters, digits and "-", in parts separated by dots');
    expect(check({ hostname: 'box.example' }).hostname).toBeNull();
    expect(check({ labels: 'a=1\n=v' }).labels).toBe('label "=v" has no key: write KEY=VALUE');
  });

  it('sends the lines split and the rest trimmed', () => {
    expect(podRequest({ name: ' web ', ports: '8080:80\n\n 53/udp ', share: ' +pid ', hostname: ' box ', labels: 'team=a\n' })).toEqual({
      name: 'web',
      ports: ['8080:80', '53/udp'],
      share: '+pid',
      hostname: 'box',
      labels: ['team=a'],
    });
  });

  it('gives a pod’s state the tone of a container’s status', () => {
    expect(['Running', 'Degraded', 'Paused', 'Exited', 'Stopped', 'Created'].map(podTone)).toEqual(['ok', 'warn', 'warn', 'idle', 'idle', 'idle']);
  });
});
