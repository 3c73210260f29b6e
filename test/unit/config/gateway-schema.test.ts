// `dockmaster.yaml` (kind: Gateway) validation: defaults filled in, every problem with its path
// (unknown keys, ranges, the Consul address), and the cross-field ejection-time rule. Pure.
import { describe, expect, it } from 'vitest';
import { validateGatewayConfig } from '../../../src/config/gateway-schema.js';
import { CONSUL_DEFAULTS, GATEWAY_DEFAULTS } from '../../../src/model/gateway.js';

const FILE = '/cfg/dockmaster.yaml';

function problemsOf(value: unknown): Array<{ path: string; message: string }> {
  const result = validateGatewayConfig(value, FILE);
  if (result.ok) return [];
  for (const problem of result.problems) expect(problem.file).toBe(FILE);
  return result.problems.map(({ path, message }) => ({ path, message }));
}

function valueOf(doc: Record<string, unknown>) {
  const result = validateGatewayConfig({ kind: 'Gateway', ...doc }, FILE);
  if (!result.ok) throw new Error(`rejected: ${JSON.stringify(result.problems)}`);
  return result.value;
}

describe('validateGatewayConfig: defaults', () => {
  it('a bare kind: Gateway gives every default, with no provider configured', () => {
    const value = valueOf({});
    expect(value).toEqual(GATEWAY_DEFAULTS);
    expect(value.providers.docker).toBeUndefined();
    expect(value.providers.consul).toBeUndefined();
    expect(value.passiveHealth).toEqual({ consecutiveFailures: 5, baseEjectionMs: 30_000, maxEjectionMs: 300_000, maxEjectionPercent: 50 });
    expect(value.panicThresholdPercent).toBe(50);
    expect(value.slowStartMs).toBe(0);
  });

  it('a partial passiveHealth keeps the defaults of the keys it leaves out', () => {
    expect(valueOf({ passiveHealth: { consecutiveFailures: 3, baseEjectionMs: 500 } }).passiveHealth).toEqual({
      consecutiveFailures: 3,
      baseEjectionMs: 500,
      maxEjectionMs: 300_000,
      maxEjectionPercent: 50,
    });
  });

  it('top-level settings are taken as given', () => {
    const value = valueOf({ panicThresholdPercent: 0, slowStartMs: 60_000 });
    expect(value.panicThresholdPercent).toBe(0);
    expect(value.slowStartMs).toBe(60_000);
  });

  it('a consul provider with only an address gets every Consul default', () => {
    expect(valueOf({ providers: { consul: { address: 'http://127.0.0.1:8500' } } }).providers.consul).toEqual({
      address: 'http://127.0.0.1:8500',
      ...CONSUL_DEFAULTS,
    });
  });

  it('a partial consul register section keeps the defaults of the keys it leaves out', () => {
    const consul = valueOf({ providers: { consul: { address: 'https://consul.internal:8501', register: { enabled: true } } } }).providers.consul;
    expect(consul?.register).toEqual({ enabled: true, checkIntervalMs: 1_000, deregisterCriticalAfterMs: 60_000 });
  });

  it('an empty docker provider is enabled with the default label prefix', () => {
    expect(valueOf({ providers: { docker: {} } }).providers.docker).toEqual({ labelPrefix: 'dockmaster' });
  });

  it('does not change the value it was given', () => {
    const input = { kind: 'Gateway', passiveHealth: { consecutiveFailures: 2 }, providers: { consul: { address: 'http://127.0.0.1:8500' } } };
    const copy = structuredClone(input);
    validateGatewayConfig(input, FILE);
    expect(input).toEqual(copy);
  });

  it('maxEjectionMs equal to baseEjectionMs is accepted', () => {
    expect(valueOf({ passiveHealth: { baseEjectionMs: 1_000, maxEjectionMs: 1_000 } }).passiveHealth.maxEjectionMs).toBe(1_000);
  });
});

describe('validateGatewayConfig: problems', () => {
  const cases: Array<{ name: string; value: unknown; problems: Array<{ path: string; message: string | RegExp }> }> = [
    {
      name: 'an unknown key at the top is named with its path',
      value: { kind: 'Gateway', panicTreshold: 10 },
      problems: [{ path: '/panicTreshold', message: "unknown key 'panicTreshold'" }],
    },
    {
      name: 'an unknown key in passiveHealth is named with its path',
      value: { kind: 'Gateway', passiveHealth: { consecutiveFailure: 3 } },
      problems: [{ path: '/passiveHealth/consecutiveFailure', message: "unknown key 'consecutiveFailure'" }],
    },
    {
      name: 'an unknown provider is named with its path',
      value: { kind: 'Gateway', providers: { kubernetes: {} } },
      problems: [{ path: '/providers/kubernetes', message: "unknown key 'kubernetes'" }],
    },
    {
      name: 'an unknown key deep in the consul register section is named with its path',
      value: { kind: 'Gateway', providers: { consul: { address: 'http://127.0.0.1:8500', register: { enable: true } } } },
      problems: [{ path: '/providers/consul/register/enable', message: "unknown key 'enable'" }],
    },
    {
      name: 'every unknown key is reported, not only the first',
      value: { kind: 'Gateway', a: 1, passiveHealth: { b: 2 }, providers: { docker: { c: 3 } } },
      problems: [
        { path: '/a', message: "unknown key 'a'" },
        { path: '/passiveHealth/b', message: "unknown key 'b'" },
        { path: '/providers/docker/c', message: "unknown key 'c'" },
      ],
    },
    {
      name: 'a consul address without a scheme is refused with an example',
      value: { kind: 'Gateway', providers: { consul: { address: '127.0.0.1:8500' } } },
      problems: [{ path: '/providers/consul/address', message: "must be an address like 'http://127.0.0.1:8500'" }],
    },
    {
      name: 'a consul address with a path is refused',
      value: { kind: 'Gateway', providers: { consul: { address: 'http://127.0.0.1:8500/v1' } } },
      problems: [{ path: '/providers/consul/address', message: "must be an address like 'http://127.0.0.1:8500'" }],
    },
    {
      name: 'a consul address with another scheme is refused',
      value: { kind: 'Gateway', providers: { consul: { address: 'consul://127.0.0.1:8500' } } },
      problems: [{ path: '/providers/consul/address', message: "must be an address like 'http://127.0.0.1:8500'" }],
    },
    {
      name: 'a consul provider without an address says it is required',
      value: { kind: 'Gateway', providers: { consul: { tag: 'edge' } } },
      problems: [{ path: '/providers/consul/address', message: 'is required' }],
    },
    {
      name: 'a docker host that is neither unix:// nor tcp:// is refused',
      value: { kind: 'Gateway', providers: { docker: { host: 'http://127.0.0.1:2375' } } },
      problems: [{ path: '/providers/docker/host', message: "must be 'unix:///path' or 'tcp://host:port'" }],
    },
    {
      name: 'maxEjectionMs below baseEjectionMs is refused at maxEjectionMs',
      value: { kind: 'Gateway', passiveHealth: { baseEjectionMs: 60_000, maxEjectionMs: 30_000 } },
      problems: [{ path: '/passiveHealth/maxEjectionMs', message: 'must be at least baseEjectionMs' }],
    },
    {
      name: 'zero consecutive failures is out of range',
      value: { kind: 'Gateway', passiveHealth: { consecutiveFailures: 0 } },
      problems: [{ path: '/passiveHealth/consecutiveFailures', message: 'must be an integer from 1 to 1000' }],
    },
    {
      name: 'a maxEjectionPercent over 100 is out of range',
      value: { kind: 'Gateway', passiveHealth: { maxEjectionPercent: 101 } },
      problems: [{ path: '/passiveHealth/maxEjectionPercent', message: 'must be an integer from 0 to 100' }],
    },
    {
      name: 'a baseEjectionMs under 100 ms is out of range',
      value: { kind: 'Gateway', passiveHealth: { baseEjectionMs: 50 } },
      problems: [{ path: '/passiveHealth/baseEjectionMs', message: 'must be an integer from 100 to 3600000' }],
    },
    {
      name: 'a negative panic threshold is out of range',
      value: { kind: 'Gateway', panicThresholdPercent: -1 },
      problems: [{ path: '/panicThresholdPercent', message: 'must be an integer from 0 to 100' }],
    },
    {
      name: 'a fractional slowStartMs is refused',
      value: { kind: 'Gateway', slowStartMs: 1.5 },
      problems: [{ path: '/slowStartMs', message: 'must be an integer from 0 to 3600000' }],
    },
    {
      name: 'a string where a number belongs is refused',
      value: { kind: 'Gateway', passiveHealth: { baseEjectionMs: '30s' } },
      problems: [{ path: '/passiveHealth/baseEjectionMs', message: 'must be an integer from 100 to 3600000' }],
    },
    {
      name: 'another kind is refused',
      value: { kind: 'Route' },
      problems: [{ path: '/kind', message: "must be 'Gateway'" }],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      // Order follows the schema, not the document: compare by path.
      const problems = problemsOf(c.value).sort((a, b) => a.path.localeCompare(b.path));
      expect(problems).toHaveLength(c.problems.length);
      c.problems.forEach((expected, i) => {
        expect(problems[i]?.path).toBe(expected.path);
        if (typeof expected.message === 'string') expect(problems[i]?.message).toBe(expected.message);
        else expect(problems[i]?.message).toMatch(expected.message);
      });
    });
  }
});
