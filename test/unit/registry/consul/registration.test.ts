// The agent service definition registered for a managed replica. Unit: pure.
import { describe, expect, it } from 'vitest';
import { consulServiceId, registrationFor } from '../../../../src/registry/consul/registration.js';

const options = { tagPrefix: '', register: { checkIntervalMs: 1_000, deregisterCriticalAfterMs: 60_000 } };

describe('registrationFor', () => {
  it('registers the replica under a stable id with its version tag and an HTTP check', () => {
    const result = registrationFor({ service: 'api', replicaId: 'r1', revision: 'abc123', origin: 'http://127.0.0.1:3001', healthPath: '/healthz' }, options);
    expect(result).toEqual({
      ok: true,
      registration: {
        Name: 'api',
        ID: 'dockmaster-api-r1',
        Address: '127.0.0.1',
        Port: 3001,
        Tags: ['version=abc123'],
        Meta: { 'dockmaster-replica': 'r1' },
        Check: { HTTP: 'http://127.0.0.1:3001/healthz', Interval: '1000ms', Timeout: '1000ms', DeregisterCriticalServiceAfter: '60000ms' },
      },
    });
  });

  it('uses the tag prefix, a health path without a slash, an IPv6 origin and an explicit check timeout', () => {
    const result = registrationFor({ service: 'api', replicaId: 'r2', revision: 'v9', origin: 'http://[::1]:4000', healthPath: 'ready', healthTimeoutMs: 250 }, { ...options, tagPrefix: 'dm-' });
    expect(result.ok && result.registration).toMatchObject({ Address: '::1', Port: 4000, Tags: ['dm-version=v9'], Check: { HTTP: 'http://[::1]:4000/ready', Timeout: '250ms' } });
  });

  it('marks the registration with the registering instance id when it has one', () => {
    const result = registrationFor({ service: 'api', replicaId: 'r1', revision: 'v', origin: 'http://127.0.0.1:1', healthPath: '/' }, { ...options, instanceId: 'dm-a' });
    expect(result.ok && result.registration.Meta).toEqual({ 'dockmaster-replica': 'r1', 'dockmaster-instance': 'dm-a' });
  });

  it('refuses an origin that is not an http URL', () => {
    expect(registrationFor({ service: 'api', replicaId: 'r', revision: 'v', origin: 'not a url', healthPath: '/' }, options).ok).toBe(false);
    expect(registrationFor({ service: 'api', replicaId: 'r', revision: 'v', origin: 'unix:///tmp/s', healthPath: '/' }, options).ok).toBe(false);
  });

  it('names the Consul service id after service and replica', () => {
    expect(consulServiceId('billing', 'billing-7f3a')).toBe('dockmaster-billing-billing-7f3a');
  });
});
