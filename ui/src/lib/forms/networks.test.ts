import { describe, expect, it } from 'vitest';
import { hasErrors, labelLines, labelList, parseSubnet, validateNetwork, type NetworkForm } from './networks';

const form = (over: Partial<NetworkForm>): NetworkForm => ({ name: 'backend', subnet: '', gateway: '', labels: '', ...over });

describe('the Create network form', () => {
  it('takes a name alone, or with a subnet, gateway and labels', () => {
    expect(hasErrors(validateNetwork(form({})))).toBe(false);
    expect(hasErrors(validateNetwork(form({ subnet: '10.90.0.0/24', gateway: '10.90.0.254', labels: 'team=web\n\nowner' })))).toBe(false);
    expect(parseSubnet('10.90.0.77/24')).toEqual({ network: (10 << 24) + (90 << 16), prefix: 24 });
  });

  it('says what is wrong with each field', () => {
    const check = (over: Partial<NetworkForm>, field: keyof NetworkForm, message: string) => {
      const errors = validateNetwork(form(over));
      expect(errors[field]).toBe(message);
      expect(hasErrors(errors)).toBe(true);
    };
    check({ name: ' ' }, 'name', 'enter a name');
    check({ name: 'my net' }, 'name', '"my net" is not a valid network name: use letters, digits, "_", "." and "-", starting with a letter or digit');
    check({ name: 'berth' }, 'name', '"berth" is a reserved network name: choose another');
    check({ subnet: '10.90.0.0' }, 'subnet', '"10.90.0.0" is not an IPv4 subnet: write an address and a prefix, like 10.90.0.0/24');
    check({ subnet: '10.300.0.0/24' }, 'subnet', '"10.300.0.0/24" is not an IPv4 subnet: write an address and a prefix, like 10.90.0.0/24');
    check({ subnet: '10.90.0.0/31' }, 'subnet', '10.90.0.0/31 is too small: use a prefix of /30 or shorter');
    check({ gateway: '10.90.0.1' }, 'gateway', 'a gateway needs its subnet: give the subnet too');
    check({ subnet: '10.90.0.0/24', gateway: '10.90.0' }, 'gateway', '"10.90.0" is not an IPv4 address, like 10.90.0.1');
    check({ subnet: '10.90.0.0/24', gateway: '10.91.0.1' }, 'gateway', '10.91.0.1 is not a host address of 10.90.0.0/24');
    check({ subnet: '10.90.0.0/24', gateway: '10.90.0.255' }, 'gateway', '10.90.0.255 is not a host address of 10.90.0.0/24');
    check({ subnet: '10.90.0.0/24', gateway: '10.90.0.0' }, 'gateway', '10.90.0.0 is not a host address of 10.90.0.0/24');
    check({ labels: 'a=1\n=2' }, 'labels', 'label "=2" has no key: write KEY=VALUE');
  });

  it('sends the non-blank label lines and shows labels as KEY=VALUE', () => {
    expect(labelLines(' a=1 \n\n b \n')).toEqual(['a=1', 'b']);
    expect(labelList({ a: '1', b: '' })).toEqual(['a=1', 'b']);
  });
});
