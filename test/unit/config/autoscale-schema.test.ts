// The `autoscale` section: defaults, every problem with its JSON path, the rules between fields
// (min and max, a target, scale to zero, windows), the reference form and its resolution. Pure.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MIN_REPLICAS,
  MAX_AUTOSCALE_REPLICAS,
  validateAutoscalePolicy,
  validateAutoscaleSection,
} from '../../../src/config/autoscale-schema.js';
import { isRouteName } from '../../../src/config/route-schema.js';
import {
  checkServiceSet,
  MAX_REPLICAS,
  resolveServices,
  validatePolicyFolderDocument,
  type PolicyFolderSource,
} from '../../../src/config/service-schema.js';
import { AUTOSCALE_DEFAULTS, type AutoscalePolicy } from '../../../src/model/autoscale.js';
import { autoscalePolicyOf } from '../../../src/model/service.js';

const FILE = 'policies/api.yaml';

/** The smallest section that is valid: a bound and a target. */
const MINIMAL = { maxReplicas: 10, targetRps: 50 };

/** MINIMAL with every default filled in: what the worked example says. */
const MINIMAL_POLICY: AutoscalePolicy = {
  minReplicas: 1,
  maxReplicas: 10,
  targetRps: 50,
  tolerance: 0.1,
  syncIntervalMs: 1000,
  stableWindowMs: 60000,
  scaleUp: {
    stabilizationWindowMs: 0,
    policies: [
      { type: 'percent', value: 100, periodMs: 15000 },
      { type: 'replicas', value: 4, periodMs: 15000 },
    ],
    selectPolicy: 'max',
  },
  scaleDown: { stabilizationWindowMs: 300000, policies: [{ type: 'percent', value: 100, periodMs: 15000 }], selectPolicy: 'max' },
  panic: { windowMs: 6000, threshold: 2 },
  hold: { maxQueue: 100, holdTimeoutMs: 30000 },
};

function policyOf(value: unknown): AutoscalePolicy {
  const result = validateAutoscalePolicy(value, FILE);
  if (!result.ok) throw new Error(`expected a valid policy, got ${JSON.stringify(result.problems)}`);
  return result.value;
}

function problemsOf(value: unknown): Array<{ path: string; message: string }> {
  const result = validateAutoscaleSection(value, FILE);
  if (result.ok) return [];
  for (const problem of result.problems) expect(problem.file).toBe(FILE);
  return result.problems.map(({ path, message }) => ({ path, message }));
}

describe('validateAutoscaleSection: accepted policies', () => {
  it('fills every default into a section with only maxReplicas and a target', () => {
    expect(validateAutoscaleSection(MINIMAL, FILE)).toEqual({ ok: true, value: MINIMAL_POLICY });
    // The defaults are the model's (and minReplicas 1).
    expect(MINIMAL_POLICY).toMatchObject({ ...AUTOSCALE_DEFAULTS, minReplicas: DEFAULT_MIN_REPLICAS });
  });

  it('keeps a section written out in full exactly as written', () => {
    const full = {
      minReplicas: 0,
      maxReplicas: 1000,
      targetRps: 12.5,
      targetLatencyP95Ms: 200,
      targetConcurrency: 0.5,
      tolerance: 0,
      syncIntervalMs: 100,
      stableWindowMs: 200,
      scaleUp: { stabilizationWindowMs: 3600000, policies: [{ type: 'replicas', value: 1000, periodMs: 1800000 }], selectPolicy: 'min' },
      scaleDown: { stabilizationWindowMs: 0, policies: [{ type: 'percent', value: 1, periodMs: 1000 }], selectPolicy: 'disabled' },
      panic: { windowMs: 100, threshold: 10 },
      scaleToZero: { idleMs: 1000 },
      hold: { maxQueue: 0, holdTimeoutMs: 100 },
    };
    expect(policyOf(full)).toEqual(full);
  });

  const partial: Array<{ name: string; value: Record<string, unknown>; expected: Partial<AutoscalePolicy> }> = [
    {
      name: 'a scaleDown with only selectPolicy keeps its default window and policies',
      value: { scaleDown: { selectPolicy: 'min' } },
      expected: { scaleDown: { ...MINIMAL_POLICY.scaleDown, selectPolicy: 'min' } },
    },
    {
      name: 'a scaleUp with only a window keeps both default policies',
      value: { scaleUp: { stabilizationWindowMs: 30000 } },
      expected: { scaleUp: { ...MINIMAL_POLICY.scaleUp, stabilizationWindowMs: 30000 } },
    },
    {
      name: 'a given policies list replaces the default list instead of adding to it',
      value: { scaleUp: { policies: [{ type: 'replicas', value: 1, periodMs: 60000 }] } },
      expected: { scaleUp: { stabilizationWindowMs: 0, policies: [{ type: 'replicas', value: 1, periodMs: 60000 }], selectPolicy: 'max' } },
    },
    { name: 'a panic with only a threshold keeps the default window', value: { panic: { threshold: 3 } }, expected: { panic: { windowMs: 6000, threshold: 3 } } },
    { name: 'a hold with only a queue size keeps the default timeout', value: { hold: { maxQueue: 5 } }, expected: { hold: { maxQueue: 5, holdTimeoutMs: 30000 } } },
    { name: 'minReplicas 0 with scaleToZero', value: { minReplicas: 0, scaleToZero: { idleMs: 300000 } }, expected: { minReplicas: 0, scaleToZero: { idleMs: 300000 } } },
    { name: 'minReplicas equal to maxReplicas (a fixed count)', value: { minReplicas: 10 }, expected: { minReplicas: 10 } },
    { name: 'a stable window as short as the sync interval', value: { syncIntervalMs: 500, stableWindowMs: 1000, panic: { windowMs: 500 } }, expected: { syncIntervalMs: 500, stableWindowMs: 1000, panic: { windowMs: 500, threshold: 2 } } },
  ];

  it.each(partial)('$name', ({ value, expected }) => {
    expect(policyOf({ ...MINIMAL, ...value })).toEqual({ ...MINIMAL_POLICY, ...expected });
  });

  it.each([
    ['targetRps', { targetRps: 50 }],
    ['targetLatencyP95Ms', { targetLatencyP95Ms: 200 }],
    ['targetConcurrency', { targetConcurrency: 10 }],
  ])('accepts %s as the only target, leaving the other targets out', (_name, target) => {
    const policy = policyOf({ maxReplicas: 3, ...target });
    expect(Object.keys(policy).filter((key) => key.startsWith('target'))).toEqual(Object.keys(target));
  });

  it('leaves scaleToZero out when not set', () => {
    expect('scaleToZero' in policyOf(MINIMAL)).toBe(false);
  });

  it('reads a validated policy written back as a section as itself (GET shows it, PUT takes it back)', () => {
    for (const { value } of partial) {
      const policy = policyOf({ ...MINIMAL, ...value });
      expect(policyOf(JSON.parse(JSON.stringify(policy)))).toEqual(policy);
    }
  });

  it('returns a frozen policy that does not share the input', () => {
    const input = { ...MINIMAL, scaleUp: { policies: [{ type: 'replicas', value: 2, periodMs: 1000 }] }, hold: { maxQueue: 1 } };
    const policy = policyOf(input);
    for (const part of [policy, policy.scaleUp, policy.scaleUp.policies, policy.scaleUp.policies[0], policy.scaleDown.policies, policy.panic, policy.hold]) {
      expect(Object.isFrozen(part)).toBe(true);
    }
    expect(Object.isFrozen(input.scaleUp.policies)).toBe(false);
    expect(policy.scaleUp.policies).not.toBe(input.scaleUp.policies);
    expect(policy.scaleUp.policies[0]).not.toBe(input.scaleUp.policies[0]);
  });

  it('does not share the default policies lists between policies, nor freeze the model defaults', () => {
    expect(policyOf(MINIMAL).scaleUp.policies).not.toBe(AUTOSCALE_DEFAULTS.scaleUp.policies);
    expect(Object.isFrozen(AUTOSCALE_DEFAULTS.scaleUp.policies)).toBe(false);
  });

  it('bounds the replica counts as a service does', () => {
    expect(MAX_AUTOSCALE_REPLICAS).toBe(MAX_REPLICAS);
  });
});

describe('validateAutoscaleSection: rejected sections', () => {
  const rejected: Array<{ name: string; value: unknown; problems: Array<{ path: string; message: string }> }> = [
    { name: 'a section that is not a mapping', value: [MINIMAL], problems: [{ path: '/autoscale', message: 'must be a mapping of keys to values' }] },
    { name: 'a section written as `autoscale:` (null)', value: null, problems: [{ path: '/autoscale', message: 'must be a mapping of keys to values' }] },
    { name: 'a missing maxReplicas', value: { targetRps: 50 }, problems: [{ path: '/autoscale/maxReplicas', message: 'is required' }] },
    { name: 'an unknown key at the top', value: { ...MINIMAL, targetCpu: 80 }, problems: [{ path: '/autoscale/targetCpu', message: "unknown key 'targetCpu'" }] },
    { name: 'an unknown key inside a section', value: { ...MINIMAL, panic: { windowSeconds: 6 } }, problems: [{ path: '/autoscale/panic/windowSeconds', message: "unknown key 'windowSeconds'" }] },
    { name: 'a negative minReplicas', value: { ...MINIMAL, minReplicas: -1 }, problems: [{ path: '/autoscale/minReplicas', message: 'must be an integer from 0 to 1000' }] },
    { name: 'a fractional minReplicas', value: { ...MINIMAL, minReplicas: 1.5 }, problems: [{ path: '/autoscale/minReplicas', message: 'must be an integer from 0 to 1000' }] },
    { name: 'a maxReplicas of 0', value: { ...MINIMAL, maxReplicas: 0 }, problems: [{ path: '/autoscale/maxReplicas', message: 'must be an integer from 1 to 1000' }] },
    { name: 'a maxReplicas over MAX_REPLICAS', value: { ...MINIMAL, maxReplicas: 1001 }, problems: [{ path: '/autoscale/maxReplicas', message: 'must be an integer from 1 to 1000' }] },
    { name: 'a maxReplicas as a string', value: { ...MINIMAL, maxReplicas: '10' }, problems: [{ path: '/autoscale/maxReplicas', message: 'must be an integer from 1 to 1000' }] },
    { name: 'minReplicas above maxReplicas', value: { ...MINIMAL, minReplicas: 5, maxReplicas: 2 }, problems: [{ path: '/autoscale/maxReplicas', message: 'must be at least minReplicas (5)' }] },
    {
      name: 'no target at all',
      value: { maxReplicas: 10, minReplicas: 2 },
      problems: [{ path: '/autoscale', message: "needs at least one target: 'targetRps', 'targetLatencyP95Ms' or 'targetConcurrency'" }],
    },
    ...[0, -5, 1_000_001, '50', null].map((targetRps) => ({
      name: `targetRps ${JSON.stringify(targetRps)}`,
      value: { maxReplicas: 10, targetRps },
      problems: [{ path: '/autoscale/targetRps', message: 'must be a number greater than 0 and at most 1000000' }],
    })),
    { name: 'a targetLatencyP95Ms of 0', value: { ...MINIMAL, targetLatencyP95Ms: 0 }, problems: [{ path: '/autoscale/targetLatencyP95Ms', message: 'must be a number greater than 0 and at most 600000' }] },
    { name: 'a negative targetConcurrency', value: { ...MINIMAL, targetConcurrency: -1 }, problems: [{ path: '/autoscale/targetConcurrency', message: 'must be a number greater than 0 and at most 100000' }] },
    ...[1, 1.5, -0.1].map((tolerance) => ({
      name: `a tolerance of ${tolerance}`,
      value: { ...MINIMAL, tolerance },
      problems: [{ path: '/autoscale/tolerance', message: 'must be a number of at least 0 and less than 1' }],
    })),
    { name: 'a sync interval under 100 ms', value: { ...MINIMAL, syncIntervalMs: 99 }, problems: [{ path: '/autoscale/syncIntervalMs', message: 'must be an integer from 100 to 60000' }] },
    { name: 'a sync interval over a minute', value: { ...MINIMAL, syncIntervalMs: 60001 }, problems: [{ path: '/autoscale/syncIntervalMs', message: 'must be an integer from 100 to 60000' }] },
    {
      name: 'a stable window shorter than the sync interval',
      value: { ...MINIMAL, syncIntervalMs: 5000, stableWindowMs: 4000, panic: { windowMs: 1000 } },
      problems: [{ path: '/autoscale/stableWindowMs', message: 'must be at least syncIntervalMs (5000)' }],
    },
    {
      name: 'a stable window shorter than the default sync interval',
      value: { ...MINIMAL, stableWindowMs: 500, panic: { windowMs: 100 } },
      problems: [{ path: '/autoscale/stableWindowMs', message: 'must be at least syncIntervalMs (1000, the default)' }],
    },
    {
      name: 'a panic window as long as the stable window',
      value: { ...MINIMAL, stableWindowMs: 10000, panic: { windowMs: 10000 } },
      problems: [{ path: '/autoscale/panic/windowMs', message: 'must be less than stableWindowMs (10000)' }],
    },
    {
      name: 'a panic window longer than the default stable window',
      value: { ...MINIMAL, panic: { windowMs: 60000 } },
      problems: [{ path: '/autoscale/panic/windowMs', message: 'must be less than stableWindowMs (60000, the default)' }],
    },
    {
      name: 'a stable window not longer than the default panic window',
      value: { ...MINIMAL, stableWindowMs: 6000 },
      problems: [{ path: '/autoscale/stableWindowMs', message: 'must be greater than panic.windowMs (6000, the default)' }],
    },
    ...[1, 0.5, 11].map((threshold) => ({
      name: `a panic threshold of ${threshold}`,
      value: { ...MINIMAL, panic: { threshold } },
      problems: [{ path: '/autoscale/panic/threshold', message: 'must be a number greater than 1 and at most 10' }],
    })),
    {
      name: 'minReplicas 0 without scaleToZero',
      value: { ...MINIMAL, minReplicas: 0 },
      problems: [{ path: '/autoscale/minReplicas', message: "0 needs 'scaleToZero: {idleMs: N}': how long a service must be idle before it drains to zero" }],
    },
    {
      name: 'scaleToZero with the default minReplicas',
      value: { ...MINIMAL, scaleToZero: { idleMs: 60000 } },
      problems: [{ path: '/autoscale/scaleToZero', message: 'applies only with minReplicas 0 (minReplicas is 1)' }],
    },
    {
      name: 'scaleToZero with minReplicas 2',
      value: { ...MINIMAL, minReplicas: 2, scaleToZero: { idleMs: 60000 } },
      problems: [{ path: '/autoscale/scaleToZero', message: 'applies only with minReplicas 0 (minReplicas is 2)' }],
    },
    { name: 'scaleToZero without idleMs', value: { ...MINIMAL, minReplicas: 0, scaleToZero: {} }, problems: [{ path: '/autoscale/scaleToZero/idleMs', message: 'is required' }] },
    { name: 'an idleMs under a second', value: { ...MINIMAL, minReplicas: 0, scaleToZero: { idleMs: 999 } }, problems: [{ path: '/autoscale/scaleToZero/idleMs', message: 'must be an integer from 1000 to 86400000' }] },
    { name: 'a negative scale-down window', value: { ...MINIMAL, scaleDown: { stabilizationWindowMs: -1 } }, problems: [{ path: '/autoscale/scaleDown/stabilizationWindowMs', message: 'must be an integer from 0 to 3600000' }] },
    { name: 'an unknown selectPolicy', value: { ...MINIMAL, scaleUp: { selectPolicy: 'first' } }, problems: [{ path: '/autoscale/scaleUp/selectPolicy', message: "must be one of 'max', 'min', 'disabled'" }] },
    { name: 'an empty policies list', value: { ...MINIMAL, scaleUp: { policies: [] } }, problems: [{ path: '/autoscale/scaleUp/policies', message: 'must list at least 1 item(s)' }] },
    {
      name: 'more than 10 rate policies',
      value: { ...MINIMAL, scaleUp: { policies: Array.from({ length: 11 }, () => ({ type: 'replicas', value: 1, periodMs: 1000 })) } },
      problems: [{ path: '/autoscale/scaleUp/policies', message: 'must list at most 10 items' }],
    },
    {
      name: 'a rate policy value of 0',
      value: { ...MINIMAL, scaleUp: { policies: [{ type: 'percent', value: 0, periodMs: 15000 }] } },
      problems: [{ path: '/autoscale/scaleUp/policies/0/value', message: 'must be an integer from 1 to 1000' }],
    },
    {
      name: 'a rate policy of an unknown type',
      value: { ...MINIMAL, scaleDown: { policies: [{ type: 'percent', value: 50, periodMs: 15000 }, { type: 'pods', value: 1, periodMs: 15000 }] } },
      problems: [{ path: '/autoscale/scaleDown/policies/1/type', message: "must be one of 'percent', 'replicas'" }],
    },
    {
      name: 'a rate policy without a period',
      value: { ...MINIMAL, scaleDown: { policies: [{ type: 'replicas', value: 1 }] } },
      problems: [{ path: '/autoscale/scaleDown/policies/0/periodMs', message: 'is required' }],
    },
    {
      name: 'a rate policy period under a second',
      value: { ...MINIMAL, scaleDown: { policies: [{ type: 'replicas', value: 1, periodMs: 500 }] } },
      problems: [{ path: '/autoscale/scaleDown/policies/0/periodMs', message: 'must be an integer from 1000 to 1800000' }],
    },
    { name: 'a negative hold queue', value: { ...MINIMAL, hold: { maxQueue: -1 } }, problems: [{ path: '/autoscale/hold/maxQueue', message: 'must be an integer from 0 to 100000' }] },
    { name: 'a hold timeout of 0', value: { ...MINIMAL, hold: { holdTimeoutMs: 0 } }, problems: [{ path: '/autoscale/hold/holdTimeoutMs', message: 'must be an integer from 100 to 600000' }] },
    {
      name: 'a reference with other keys',
      value: { policy: 'elastic', maxReplicas: 3 },
      problems: [{ path: '/autoscale/maxReplicas', message: "unknown key 'maxReplicas': a reference to a named policy holds only 'policy'" }],
    },
    {
      name: 'a reference to a name that is not a DNS label',
      value: { policy: 'Elastic' },
      problems: [{ path: '/autoscale/policy', message: 'must be 1 to 63 lower-case letters, digits or dashes, starting and ending with a letter or digit' }],
    },
  ];

  it.each(rejected)('$name is reported at its path', ({ value, problems }) => {
    expect(problemsOf(value)).toEqual(problems);
  });

  it('reports every problem of a section at once', () => {
    const paths = problemsOf({
      minReplicas: 0,
      tolerance: 2,
      scaleUp: { policies: [{ type: 'percent', value: 0, periodMs: 1000 }] },
      panic: { windowMs: 70000 },
      hold: { extra: true },
    }).map((p) => p.path);
    expect(paths).toEqual([
      '/autoscale/maxReplicas',
      '/autoscale/tolerance',
      '/autoscale/scaleUp/policies/0/value',
      '/autoscale/hold/extra',
      '/autoscale',
      '/autoscale/minReplicas',
      '/autoscale/panic/windowMs',
    ]);
  });

  it('puts problems under the base path it is given', () => {
    const result = validateAutoscaleSection({ ...MINIMAL, tolerance: 1 }, FILE, '/spec/autoscale');
    expect(result.ok ? [] : result.problems.map((p) => p.path)).toEqual(['/spec/autoscale/tolerance']);
  });
});

describe('validateAutoscaleSection: a prometheus source', () => {
  const RPS = 'sum(rate(dockmaster_revision_requests_total{service="app"}[30s]))';
  const P95 = '1000 * histogram_quantile(0.95, sum by (le) (rate(dockmaster_revision_request_duration_seconds_bucket{service="app"}[30s])))';
  const CONCURRENCY = 'sum(dockmaster_proxy_in_flight_requests{service="app"})';
  const prometheus = (fields: Record<string, unknown>) => ({ source: { prometheus: { address: 'http://127.0.0.1:9091', ...fields } } });

  it('is absent by default (the proxy measures)', () => {
    expect('source' in policyOf(MINIMAL)).toBe(false);
  });

  it('fills timeoutMs 2000 and keeps the queries as written', () => {
    expect(policyOf({ ...MINIMAL, ...prometheus({ queries: { rps: RPS } }) }).source).toEqual({
      prometheus: { address: 'http://127.0.0.1:9091', timeoutMs: 2000, queries: { rps: RPS } },
    });
  });

  it('accepts a query per target, a timeout and an https address with a path prefix', () => {
    const value = {
      ...MINIMAL,
      targetLatencyP95Ms: 200,
      targetConcurrency: 4,
      source: { prometheus: { address: 'https://prom.example.com:443/prometheus', timeoutMs: 500, queries: { rps: RPS, p95Ms: P95, concurrency: CONCURRENCY } } },
    };
    expect(policyOf(value).source).toEqual(value.source);
    expect(Object.isFrozen(policyOf(value).source?.prometheus.queries)).toBe(true);
  });

  it.each(['http://127.0.0.1:9090', 'http://localhost', 'http://[::1]:9090', 'https://prom.internal/api-prefix/'])('accepts the address %s', (address) => {
    expect(problemsOf({ ...MINIMAL, source: { prometheus: { address, queries: { rps: RPS } } } })).toEqual([]);
  });

  it.each(['127.0.0.1:9090', 'ftp://127.0.0.1:9090', 'http://', 'http://127.0.0.1:9090?x=1', 'http://user@127.0.0.1', 'http://127.0.0.1:9090/#a'])(
    'refuses the address %s',
    (address) => {
      expect(problemsOf({ ...MINIMAL, source: { prometheus: { address, queries: { rps: RPS } } } })).toEqual([
        { path: '/autoscale/source/prometheus/address', message: 'must be an http(s) URL of a Prometheus server: http(s)://host:port, optionally with a path prefix' },
      ]);
    },
  );

  const rejected: Array<{ name: string; value: unknown; problems: Array<{ path: string; message: string }> }> = [
    {
      name: 'targetRps without an rps query',
      value: { ...MINIMAL, ...prometheus({ queries: { concurrency: CONCURRENCY } }) },
      problems: [{ path: '/autoscale/source/prometheus/queries/rps', message: "is required: 'targetRps' is set and the prometheus source needs a query for it" }],
    },
    {
      name: 'two targets without their queries',
      value: { maxReplicas: 3, targetLatencyP95Ms: 200, targetConcurrency: 2, ...prometheus({ queries: { rps: RPS } }) },
      problems: [
        { path: '/autoscale/source/prometheus/queries/p95Ms', message: "is required: 'targetLatencyP95Ms' is set and the prometheus source needs a query for it" },
        { path: '/autoscale/source/prometheus/queries/concurrency', message: "is required: 'targetConcurrency' is set and the prometheus source needs a query for it" },
      ],
    },
    { name: 'an empty query', value: { ...MINIMAL, ...prometheus({ queries: { rps: '' } }) }, problems: [{ path: '/autoscale/source/prometheus/queries/rps', message: 'must not be empty' }] },
    {
      name: 'a query over 4096 characters',
      value: { ...MINIMAL, ...prometheus({ queries: { rps: `sum(${'x'.repeat(4093)})` } }) },
      problems: [{ path: '/autoscale/source/prometheus/queries/rps', message: 'must be at most 4096 characters long' }],
    },
    { name: 'a query that is not a string', value: { ...MINIMAL, ...prometheus({ queries: { rps: 5 } }) }, problems: [{ path: '/autoscale/source/prometheus/queries/rps', message: 'must be a string' }] },
    {
      name: 'an unknown query name',
      value: { ...MINIMAL, ...prometheus({ queries: { rps: RPS, errors: 'sum(x)' } }) },
      problems: [{ path: '/autoscale/source/prometheus/queries/errors', message: "unknown key 'errors'" }],
    },
    { name: 'a source without queries', value: { ...MINIMAL, ...prometheus({}) }, problems: [{ path: '/autoscale/source/prometheus/queries', message: 'is required' }] },
    { name: 'a prometheus source without an address', value: { ...MINIMAL, source: { prometheus: { queries: { rps: RPS } } } }, problems: [{ path: '/autoscale/source/prometheus/address', message: 'is required' }] },
    { name: 'an unknown source kind', value: { ...MINIMAL, source: { datadog: {} } }, problems: [{ path: '/autoscale/source/prometheus', message: 'is required' }, { path: '/autoscale/source/datadog', message: "unknown key 'datadog'" }] },
    {
      name: 'a timeout under 100 ms',
      value: { ...MINIMAL, ...prometheus({ timeoutMs: 50, queries: { rps: RPS } }) },
      problems: [{ path: '/autoscale/source/prometheus/timeoutMs', message: 'must be an integer from 100 to 60000' }],
    },
  ];

  it.each(rejected)('$name is reported at its path', ({ value, problems }) => {
    expect(problemsOf(value)).toEqual(problems);
  });
});

describe('validateAutoscaleSection: references', () => {
  it('accepts { policy: NAME } as a frozen reference', () => {
    const result = validateAutoscaleSection({ policy: 'elastic' }, FILE);
    expect(result).toEqual({ ok: true, value: { policy: 'elastic' } });
    expect(result.ok && Object.isFrozen(result.value)).toBe(true);
  });

  it('uses the same name rule as services and routes', () => {
    for (const name of ['a', 'elastic', 'scale-2', 'a'.repeat(63), 'a'.repeat(64), 'Elastic', '-a', 'a-', 'a_b', 'a.b', '']) {
      expect({ name, ok: validateAutoscaleSection({ policy: name }, FILE).ok }).toEqual({ name, ok: isRouteName(name) });
    }
  });

  it('is refused where only a written-out policy may stand (a named policy)', () => {
    expect(validateAutoscalePolicy({ policy: 'other' }, FILE)).toEqual({
      ok: false,
      problems: [{ file: FILE, path: '/autoscale/policy', message: 'a named policy must write its autoscale section out: it cannot refer to another policy' }],
    });
  });
});

describe('autoscale references in a policies/ set', () => {
  function source(value: Record<string, unknown>, file = FILE): PolicyFolderSource {
    const result = validatePolicyFolderDocument(value, file);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    return { spec: result.value, file };
  }

  const service = (autoscale?: unknown) => ({ kind: 'Service', name: 'api', runtime: { type: 'process', command: ['node', 'api.mjs'] }, ...(autoscale === undefined ? {} : { autoscale }) });
  const elastic = source({ kind: 'Policy', name: 'elastic', autoscale: { maxReplicas: 8, targetConcurrency: 4, minReplicas: 0, scaleToZero: { idleMs: 60000 } } }, 'policies/p.yaml');
  const careful = source({ kind: 'Policy', name: 'careful', deploy: { strategy: 'canary' } }, 'policies/p.yaml');

  it("resolves a reference to the named policy's autoscale section", () => {
    const api = source(service({ policy: 'elastic' }));
    expect(checkServiceSet([api, elastic])).toEqual([]);
    const [resolved] = resolveServices([api.spec, elastic.spec]);
    expect(resolved?.autoscale).toBe(elastic.spec.autoscale);
    expect(resolved !== undefined && autoscalePolicyOf(resolved)).toEqual({ ...MINIMAL_POLICY, targetRps: undefined, minReplicas: 0, maxReplicas: 8, targetConcurrency: 4, scaleToZero: { idleMs: 60000 } });
  });

  it('keeps a written-out section, and no section as none', () => {
    const own = source(service(MINIMAL));
    const plain = source({ ...service(), name: 'plain' });
    const [ownResolved, plainResolved] = resolveServices([own.spec, plain.spec]);
    expect(ownResolved !== undefined && autoscalePolicyOf(ownResolved)).toEqual(MINIMAL_POLICY);
    expect(plainResolved !== undefined && 'autoscale' in plainResolved).toBe(false);
    expect(plainResolved !== undefined && autoscalePolicyOf(plainResolved)).toBeUndefined();
  });

  it('reports a reference to a missing policy at /autoscale/policy, naming the autoscale policies there are', () => {
    expect(checkServiceSet([source(service({ policy: 'elastik' })), elastic, careful])).toEqual([
      { file: FILE, path: '/autoscale/policy', message: "refers to policy 'elastik', but no 'kind: Policy' document has that name (autoscale policies: elastic)" },
    ]);
    expect(checkServiceSet([source(service({ policy: 'elastic' })), careful])).toEqual([
      { file: FILE, path: '/autoscale/policy', message: "refers to policy 'elastic', but no 'kind: Policy' document has that name (no autoscale policies here)" },
    ]);
  });

  it('reports a reference to a policy without an autoscale section', () => {
    expect(checkServiceSet([careful, source(service({ policy: 'careful' }))])).toEqual([
      { file: FILE, path: '/autoscale/policy', message: "refers to policy 'careful', which has no 'autoscale' section" },
    ]);
  });

  it('resolves deploy and autoscale of one service from one policy holding both', () => {
    const both = source({ kind: 'Policy', name: 'both', deploy: { strategy: 'blue-green' }, autoscale: MINIMAL });
    const api = source({ ...service({ policy: 'both' }), deploy: { policy: 'both' } });
    expect(checkServiceSet([api, both])).toEqual([]);
    const [resolved] = resolveServices([api.spec, both.spec]);
    expect(resolved?.deploy?.strategy).toBe('blue-green');
    expect(resolved?.autoscale).toEqual(MINIMAL_POLICY);
  });
});
