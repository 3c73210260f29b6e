// `consul.leadership` in dockmaster.yaml: off by default, defaults filled in, enabling it turns
// on `register` (followers route to the leader's replicas through Consul), every bad value named
// with its path. Pure.
import { describe, expect, it } from 'vitest';
import { validateGatewayConfig } from '../../../src/config/gateway-schema.js';
import { CONSUL_DEFAULTS } from '../../../src/model/gateway.js';

const FILE = '/cfg/dockmaster.yaml';
const ADDRESS = 'http://127.0.0.1:8500';

function consulOf(consul: Record<string, unknown>) {
  const result = validateGatewayConfig({ kind: 'Gateway', providers: { consul: { address: ADDRESS, ...consul } } }, FILE);
  if (!result.ok) throw new Error(`rejected: ${JSON.stringify(result.problems)}`);
  const value = result.value.providers.consul;
  if (value === undefined) throw new Error('no consul provider');
  return value;
}

function problemsOf(leadership: unknown): Array<{ path: string; message: string }> {
  const result = validateGatewayConfig({ kind: 'Gateway', providers: { consul: { address: ADDRESS, leadership } } }, FILE);
  return result.ok ? [] : result.problems.map(({ path, message }) => ({ path, message }));
}

describe('consul.leadership', () => {
  it('is off by default, with Consul-like timings: a 10 s session TTL and a 15 s lock-delay', () => {
    const consul = consulOf({});
    expect(consul.leadership).toEqual({ enabled: false, sessionTtlMs: 10_000, lockDelayMs: 15_000, keyPrefix: 'dockmaster' });
    expect(consul.leadership).toEqual(CONSUL_DEFAULTS.leadership);
    expect(consul.register.enabled).toBe(false);
  });

  it('enabled turns registration on, keeping its other settings; the written timings win', () => {
    const consul = consulOf({ register: { checkIntervalMs: 500 }, leadership: { enabled: true, sessionTtlMs: 3000, lockDelayMs: 0, keyPrefix: 'teams/web/dm' } });
    expect(consul.leadership).toEqual({ enabled: true, sessionTtlMs: 3000, lockDelayMs: 0, keyPrefix: 'teams/web/dm' });
    expect(consul.register).toEqual({ ...CONSUL_DEFAULTS.register, enabled: true, checkIntervalMs: 500 });
  });

  it('names every bad value with its path', () => {
    expect(problemsOf({ enabled: 'yes' }).map((p) => p.path)).toEqual(['/providers/consul/leadership/enabled']);
    expect(problemsOf({ sessionTtlMs: 500 }).map((p) => p.path)).toEqual(['/providers/consul/leadership/sessionTtlMs']);
    expect(problemsOf({ lockDelayMs: 120_000 }).map((p) => p.path)).toEqual(['/providers/consul/leadership/lockDelayMs']);
    const prefix = problemsOf({ keyPrefix: '/leading/slash' });
    expect(prefix.map((p) => p.path)).toEqual(['/providers/consul/leadership/keyPrefix']);
    expect(prefix[0]?.message).toContain('Consul key path');
    expect(problemsOf({ ttl: 5 })[0]?.path).toBe('/providers/consul/leadership/ttl');
  });
});
