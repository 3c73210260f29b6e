// Service and Policy document validation: defaults, every problem with its JSON path and a
// readable message, and the rules of a policies/ set. Pure.
import { describe, expect, it } from 'vitest';
import { isRouteName } from '../../../src/config/route-schema.js';
import {
  checkServiceSet,
  imageReferenceProblem,
  resolveServices,
  validatePolicyFolderDocument,
  validatePolicySpec,
  validateServiceSpec,
  type PolicyFolderDocument,
  type PolicyFolderSource,
} from '../../../src/config/service-schema.js';
import { DEFAULT_DEPLOY_POLICY, type DeployPolicy } from '../../../src/model/deploy.js';
import { autoscalePolicyOf, deployPolicyOf } from '../../../src/model/service.js';

const FILE = 'policies/api.yaml';

/** A valid autoscale section and what it becomes (the rest from AUTOSCALE_DEFAULTS). */
const AUTOSCALE = { maxReplicas: 5, targetRps: 20 };
const AUTOSCALE_POLICY = {
  minReplicas: 1,
  maxReplicas: 5,
  targetRps: 20,
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

function base(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { kind: 'Service', name: 'api', runtime: { type: 'process', command: ['node', 'app.mjs'] }, ...overrides };
}

function problemsOf(value: unknown): Array<{ path: string; message: string }> {
  const result = validateServiceSpec(value, FILE);
  if (result.ok) return [];
  for (const problem of result.problems) expect(problem.file).toBe(FILE);
  return result.problems.map(({ path, message }) => ({ path, message }));
}

describe('validateServiceSpec', () => {
  it('accepts a minimal process service and fills in every default', () => {
    expect(validateServiceSpec(base(), FILE)).toEqual({
      ok: true,
      value: {
        kind: 'Service',
        name: 'api',
        runtime: { type: 'process', command: ['node', 'app.mjs'] },
        port: 8080,
        env: {},
        replicas: 1,
        health: { path: '/healthz', intervalMs: 1000, timeoutMs: 1000, healthyThreshold: 1, unhealthyThreshold: 3 },
        stopGraceMs: 10000,
        drainTimeoutMs: 30000,
      },
    });
  });

  it('accepts a full docker service as written, filling in the deploy and autoscale defaults', () => {
    const full = base({
      runtime: { type: 'docker', image: 'registry.example.com:5000/team/api:1.2.3', network: 'bridge', pull: 'always' },
      port: 3000,
      env: { NODE_ENV: 'production', _TRACE: '' },
      replicas: 0,
      health: { path: '/ready?full=1', intervalMs: 2000, timeoutMs: 2000, healthyThreshold: 2, unhealthyThreshold: 5 },
      stopGraceMs: 0,
      drainTimeoutMs: 600000,
      version: '1.4.2+build.7',
      deploy: { strategy: 'canary', canary: { steps: [{ setWeight: 10 }, { setWeight: 50 }] } },
      autoscale: { ...AUTOSCALE, minReplicas: 0, scaleToZero: { idleMs: 60000 } },
    });
    const result = validateServiceSpec(full, FILE);
    expect(result).toEqual({
      ok: true,
      value: {
        ...full,
        deploy: { ...DEFAULT_DEPLOY_POLICY, strategy: 'canary', canary: { steps: [{ setWeight: 10 }, { setWeight: 50 }], stickySessions: false } },
        autoscale: { ...AUTOSCALE_POLICY, minReplicas: 0, scaleToZero: { idleMs: 60000 } },
      },
    });
  });

  const strategies: Array<{ strategy: string; deploy: Record<string, unknown>; check: (policy: DeployPolicy) => unknown; expected: unknown }> = [
    { strategy: 'rolling', deploy: { strategy: 'rolling', rolling: { maxSurge: 1, maxUnavailable: 0 } }, check: (p) => p.rolling, expected: { maxSurge: 1, maxUnavailable: 0, minReadyMs: 0 } },
    {
      strategy: 'blue-green',
      deploy: { strategy: 'blue-green', blueGreen: { autoPromote: false, preview: true } },
      check: (p) => p.blueGreen,
      expected: { autoPromote: false, autoPromoteDelayMs: 0, scaleDownDelayMs: 30000, preview: { header: 'x-dockmaster-preview', value: '1' } },
    },
    {
      strategy: 'canary',
      deploy: { strategy: 'canary', canary: { steps: [{ setWeight: 25 }, { pause: {} }], analysis: { successRate: 0.95 } } },
      check: (p) => p.canary,
      expected: { steps: [{ setWeight: 25 }, { pause: {} }], stickySessions: false, analysis: { intervalMs: 10000, minRequests: 50, failureLimit: 0, minSuccessRate: 0.95 } },
    },
  ];

  it.each(strategies)('accepts a $strategy service with its parameters', ({ strategy, deploy, check, expected }) => {
    const result = validateServiceSpec(base({ deploy }), FILE);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const policy = result.value.deploy as DeployPolicy;
    expect(policy.strategy).toBe(strategy);
    expect(check(policy)).toEqual(expected);
  });

  it('keeps a reference to a named policy as written (the set resolves it)', () => {
    const result = validateServiceSpec(base({ deploy: { policy: 'careful' } }), FILE);
    expect(result.ok && result.value.deploy).toEqual({ policy: 'careful' });
  });

  it('leaves deploy out when the service sets none: the default policy applies', () => {
    const result = validateServiceSpec(base(), FILE);
    expect(result.ok && 'deploy' in result.value).toBe(false);
  });

  it('keeps an autoscale reference as written, and leaves autoscale out when the service sets none', () => {
    const referring = validateServiceSpec(base({ autoscale: { policy: 'elastic' } }), FILE);
    expect(referring.ok && referring.value.autoscale).toEqual({ policy: 'elastic' });
    const plain = validateServiceSpec(base(), FILE);
    expect(plain.ok && 'autoscale' in plain.value).toBe(false);
  });

  it.each(['1', '1.4.2', 'v2-rc.1+sha.5114f85', '2024-06-01T12:00', 'x'.repeat(128)])('accepts the version %s', (version) => {
    const result = validateServiceSpec(base({ version }), FILE);
    expect(result.ok && result.value.version).toBe(version);
  });

  it('fills in docker network and pull, and keeps a process cwd', () => {
    const docker = validateServiceSpec(base({ runtime: { type: 'docker', image: 'node:20-slim' } }), FILE);
    expect(docker.ok && docker.value.runtime).toEqual({ type: 'docker', image: 'node:20-slim', network: 'host', pull: 'if-missing' });
    const process = validateServiceSpec(base({ runtime: { type: 'process', command: ['./run'], cwd: 'app' } }), FILE);
    expect(process.ok && process.value.runtime).toEqual({ type: 'process', command: ['./run'], cwd: 'app' });
  });

  it('defaults the health timeout to a shorter interval rather than exceeding it', () => {
    const result = validateServiceSpec(base({ health: { intervalMs: 500 } }), FILE);
    expect(result.ok && result.value.health).toEqual({
      path: '/healthz',
      intervalMs: 500,
      timeoutMs: 500,
      healthyThreshold: 1,
      unhealthyThreshold: 3,
    });
  });

  it('returns a frozen copy that does not share the input', () => {
    const input = base({ env: { A: '1' }, deploy: { strategy: 'rolling', canary: { steps: [{ setWeight: 1 }] } }, autoscale: { ...AUTOSCALE } });
    const result = validateServiceSpec(input, FILE);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(Object.isFrozen(result.value)).toBe(true);
    expect(Object.isFrozen(result.value.runtime)).toBe(true);
    expect(Object.isFrozen(result.value.env)).toBe(true);
    expect(Object.isFrozen(result.value.health)).toBe(true);
    expect(Object.isFrozen(result.value.deploy)).toBe(true);
    expect(Object.isFrozen((result.value.deploy as DeployPolicy).canary.steps)).toBe(true);
    expect(Object.isFrozen(result.value.autoscale)).toBe(true);
    expect(Object.isFrozen(input['env'])).toBe(false);
    expect(Object.isFrozen(input['deploy'])).toBe(false);
    expect(Object.isFrozen(input['autoscale'])).toBe(false);
  });

  const rejected: Array<{ name: string; value: unknown; problems: Array<{ path: string; message: string }> }> = [
    {
      name: 'an unknown runtime type is reported at /runtime/type',
      value: base({ runtime: { type: 'kubernetes', image: 'x' } }),
      problems: [{ path: '/runtime/type', message: "must be one of 'process', 'docker'" }],
    },
    {
      name: 'a runtime without a type is reported at /runtime/type',
      value: base({ runtime: { command: ['node'] } }),
      problems: [{ path: '/runtime/type', message: 'is required' }],
    },
    {
      name: 'a missing runtime is reported at /runtime',
      value: { kind: 'Service', name: 'api' },
      problems: [{ path: '/runtime', message: 'is required' }],
    },
    {
      name: 'an empty command is reported at /runtime/command',
      value: base({ runtime: { type: 'process', command: [] } }),
      problems: [{ path: '/runtime/command', message: 'must list the program and its arguments, e.g. [node, app.mjs]' }],
    },
    {
      name: 'a command written as one string is reported as not a list',
      value: base({ runtime: { type: 'process', command: 'node app.mjs' } }),
      problems: [{ path: '/runtime/command', message: 'must be a list' }],
    },
    {
      name: 'an empty program name is reported at /runtime/command/0',
      value: base({ runtime: { type: 'process', command: ['', 'app.mjs'] } }),
      problems: [{ path: '/runtime/command/0', message: 'must name the program to run' }],
    },
    {
      name: 'a docker key in a process runtime is an unknown key',
      value: base({ runtime: { type: 'process', command: ['node'], image: 'node:20' } }),
      problems: [{ path: '/runtime/image', message: "unknown key 'image'" }],
    },
    {
      name: 'a docker runtime without an image is reported at /runtime/image',
      value: base({ runtime: { type: 'docker' } }),
      problems: [{ path: '/runtime/image', message: 'is required' }],
    },
    {
      name: 'an empty image is reported at /runtime/image',
      value: base({ runtime: { type: 'docker', image: '' } }),
      problems: [{ path: '/runtime/image', message: 'must not be empty' }],
    },
    {
      name: 'an image with an upper-case repository is reported at /runtime/image',
      value: base({ runtime: { type: 'docker', image: 'Team/App:1' } }),
      problems: [{ path: '/runtime/image', message: expect.stringContaining('must be a Docker image reference') }],
    },
    {
      name: 'an unknown network and pull policy are both reported',
      value: base({ runtime: { type: 'docker', image: 'app', network: 'overlay', pull: 'sometimes' } }),
      problems: [
        { path: '/runtime/network', message: "must be one of 'host', 'bridge'" },
        { path: '/runtime/pull', message: "must be one of 'never', 'if-missing', 'always'" },
      ],
    },
    {
      name: 'PORT in env is reported at /env/PORT',
      value: base({ env: { PORT: '3000' } }),
      problems: [{ path: '/env/PORT', message: 'is set by dockmaster (the port each replica listens on) and cannot be set here' }],
    },
    {
      name: 'a DOCKMASTER_ name in env is reported at its key',
      value: base({ env: { DOCKMASTER_REVISION: 'r1' } }),
      problems: [{ path: '/env/DOCKMASTER_REVISION', message: 'names starting with DOCKMASTER_ are set by dockmaster and cannot be set here' }],
    },
    {
      name: 'an env name that is not a valid variable name is reported at its key, escaped',
      value: base({ env: { 'my-var': 'x', '1ST': 'y', 'a/b': 'z' } }),
      problems: [
        { path: '/env/my-var', message: "'my-var' is not a valid environment variable name (letters, digits and '_', not starting with a digit)" },
        { path: '/env/1ST', message: "'1ST' is not a valid environment variable name (letters, digits and '_', not starting with a digit)" },
        { path: '/env/a~1b', message: "'a/b' is not a valid environment variable name (letters, digits and '_', not starting with a digit)" },
      ],
    },
    {
      name: 'an env value that is a number is reported: values are strings',
      value: base({ env: { RETRIES: 3 } }),
      problems: [{ path: '/env/RETRIES', message: 'must be a string' }],
    },
    {
      name: 'a healthy threshold of 0 is reported at /health/healthyThreshold',
      value: base({ health: { healthyThreshold: 0 } }),
      problems: [{ path: '/health/healthyThreshold', message: 'must be an integer from 1 to 100' }],
    },
    {
      name: 'an unhealthy threshold of 0 is reported at /health/unhealthyThreshold',
      value: base({ health: { unhealthyThreshold: 0 } }),
      problems: [{ path: '/health/unhealthyThreshold', message: 'must be an integer from 1 to 100' }],
    },
    {
      name: 'a health timeout longer than the interval is reported at /health/timeoutMs',
      value: base({ health: { intervalMs: 500, timeoutMs: 800 } }),
      problems: [{ path: '/health/timeoutMs', message: 'must be at most health.intervalMs (500)' }],
    },
    {
      name: 'a health timeout longer than the default interval is reported too',
      value: base({ health: { timeoutMs: 1500 } }),
      problems: [{ path: '/health/timeoutMs', message: 'must be at most health.intervalMs (1000)' }],
    },
    {
      name: 'a health path without a leading slash is reported at /health/path',
      value: base({ health: { path: 'healthz' } }),
      problems: [{ path: '/health/path', message: "must be a path starting with '/', without spaces, '#', control or non-ASCII characters" }],
    },
    {
      name: 'an interval below 100 ms is reported at /health/intervalMs',
      value: base({ health: { intervalMs: 50 } }),
      problems: [{ path: '/health/intervalMs', message: 'must be an integer from 100 to 600000' }],
    },
    {
      name: 'a port, replica count and grace periods out of range are each reported',
      value: base({ port: 0, replicas: 1001, stopGraceMs: -1, drainTimeoutMs: 600001 }),
      problems: [
        { path: '/port', message: 'must be an integer from 1 to 65535' },
        { path: '/replicas', message: 'must be an integer from 0 to 1000' },
        { path: '/stopGraceMs', message: 'must be an integer from 0 to 600000' },
        { path: '/drainTimeoutMs', message: 'must be an integer from 0 to 600000' },
      ],
    },
    {
      name: 'a fractional replica count is reported',
      value: base({ replicas: 1.5 }),
      problems: [{ path: '/replicas', message: 'must be an integer from 0 to 1000' }],
    },
    {
      name: 'an unknown key is reported at its path, also inside health',
      value: base({ replica: 3, health: { path: '/healthz', retries: 1 } }),
      problems: [
        { path: '/replica', message: "unknown key 'replica'" },
        { path: '/health/retries', message: "unknown key 'retries'" },
      ],
    },
    {
      name: 'deploy and autoscale must be mappings',
      value: base({ deploy: 'rolling', autoscale: [1] }),
      problems: [
        { path: '/deploy', message: 'must be a mapping of keys to values' },
        { path: '/autoscale', message: 'must be a mapping of keys to values' },
      ],
    },
    {
      name: 'a bad autoscale field is reported at its path under /autoscale',
      value: base({ autoscale: { ...AUTOSCALE, scaleUp: { policies: [{ type: 'percent', value: 0, periodMs: 15000 }] } } }),
      problems: [{ path: '/autoscale/scaleUp/policies/0/value', message: 'must be an integer from 1 to 1000' }],
    },
    {
      name: 'an autoscale with minReplicas above maxReplicas and no target reports both',
      value: base({ autoscale: { minReplicas: 4, maxReplicas: 2 } }),
      problems: [
        { path: '/autoscale', message: "needs at least one target: 'targetRps', 'targetLatencyP95Ms' or 'targetConcurrency'" },
        { path: '/autoscale/maxReplicas', message: 'must be at least minReplicas (4)' },
      ],
    },
    {
      name: 'an autoscale reference with other keys is reported at the extra key',
      value: base({ autoscale: { policy: 'elastic', targetRps: 5 } }),
      problems: [{ path: '/autoscale/targetRps', message: "unknown key 'targetRps': a reference to a named policy holds only 'policy'" }],
    },
    {
      name: 'a bad deploy field is reported at its path under /deploy',
      value: base({ deploy: { strategy: 'canary', rolling: { maxSurge: '1.5%' }, canary: { steps: [{ setWeight: 120 }] } } }),
      problems: [
        { path: '/deploy/rolling/maxSurge', message: "must be a count from 0 to 1000 or a whole percentage like '25%'" },
        { path: '/deploy/canary/steps/0/setWeight', message: 'must be an integer from 0 to 100' },
      ],
    },
    {
      name: 'a deploy with maxSurge and maxUnavailable both 0 is reported at /deploy/rolling',
      value: base({ deploy: { rolling: { maxSurge: '0%', maxUnavailable: 0 } } }),
      problems: [{ path: '/deploy/rolling', message: 'maxSurge and maxUnavailable may not both be 0' }],
    },
    {
      name: 'a deploy reference with other keys is reported at the extra key',
      value: base({ deploy: { policy: 'careful', autoRollback: false } }),
      problems: [{ path: '/deploy/autoRollback', message: "unknown key 'autoRollback': a reference to a named policy holds only 'policy'" }],
    },
    ...['', '1.4 beta', 'x'.repeat(129), 'café', 'a\tb'].map((version) => ({
      name: `the version ${JSON.stringify(version)} is reported at /version`,
      value: base({ version }),
      problems: [{ path: '/version', message: 'must be 1 to 128 printable ASCII characters without spaces, e.g. 1.4.2' }],
    })),
    {
      name: 'a version that is a number is reported: versions are strings',
      value: base({ version: 2 }),
      problems: [{ path: '/version', message: 'must be a string' }],
    },
    {
      name: 'a name that is not a DNS label is reported at /name',
      value: base({ name: 'My_Service' }),
      problems: [{ path: '/name', message: 'must be 1 to 63 lower-case letters, digits or dashes, starting and ending with a letter or digit' }],
    },
    {
      name: 'another kind is reported at /kind',
      value: base({ kind: 'Route' }),
      problems: [{ path: '/kind', message: "must be 'Service'" }],
    },
  ];

  it.each(rejected)('$name', ({ value, problems }) => {
    expect(problemsOf(value)).toEqual(problems);
  });

  it('reports every problem of a document at once', () => {
    const paths = problemsOf(base({ port: 'http', runtime: { type: 'docker', image: 'UPPER' }, env: { PORT: '1' }, extra: true })).map(
      (p) => p.path,
    );
    expect(paths).toEqual(['/extra', '/port', '/runtime/image', '/env/PORT']);
  });

  it('uses the same name rule as routes', () => {
    for (const name of ['a', 'api', 'api-2', 'a'.repeat(63), 'a'.repeat(64), 'API', '-a', 'a-', 'a_b', 'a.b', '']) {
      expect({ name, ok: validateServiceSpec(base({ name }), FILE).ok }).toEqual({ name, ok: isRouteName(name) });
    }
  });
});

describe('imageReferenceProblem', () => {
  const valid = [
    'node',
    'node:20-slim',
    'library/node:20',
    'dockmaster-demo:latest',
    'localhost:5000/app',
    'registry.example.com:5000/team/sub/app:v1.2.3',
    'ghcr.io/owner/app_name__x:1',
    `app@sha256:${'a'.repeat(64)}`,
    `app:1@sha256:${'0'.repeat(64)}`,
    '[::1]:5000/app:1',
  ];
  const invalid = ['App', 'app:', ':1', 'app::1', 'app:-1', '/app', 'app/', 'a//b', 'app@sha256:abc', 'app name', `app:${'t'.repeat(129)}`];

  it.each(valid)('accepts %s', (image) => {
    expect(imageReferenceProblem(image)).toBeUndefined();
  });

  it.each(invalid)('refuses %s', (image) => {
    expect(imageReferenceProblem(image)).toMatch(/^must be a Docker image reference/);
  });

  it('refuses a repository name longer than 255 characters', () => {
    expect(imageReferenceProblem(`${'a'.repeat(256)}:1`)).toBe('must have a repository name of at most 255 characters');
  });
});

describe('validatePolicySpec', () => {
  it('accepts a named deploy and autoscale policy, filling in the defaults of both', () => {
    const policy = { kind: 'Policy', name: 'careful', deploy: { strategy: 'canary' }, autoscale: AUTOSCALE };
    expect(validatePolicySpec(policy, FILE)).toEqual({
      ok: true,
      value: { ...policy, deploy: { ...DEFAULT_DEPLOY_POLICY, strategy: 'canary' }, autoscale: AUTOSCALE_POLICY },
    });
  });

  it('accepts an autoscale-only policy without a deploy', () => {
    const result = validatePolicySpec({ kind: 'Policy', name: 'elastic', autoscale: AUTOSCALE }, FILE);
    expect(result.ok && 'deploy' in result.value).toBe(false);
    expect(result.ok && result.value.autoscale).toEqual(AUTOSCALE_POLICY);
  });

  const rejected: Array<{ name: string; value: unknown; problems: Array<{ path: string; message: string }> }> = [
    {
      name: 'a policy holding neither deploy nor autoscale is refused',
      value: { kind: 'Policy', name: 'empty' },
      problems: [{ path: '', message: "a policy needs 'deploy', 'autoscale' or both" }],
    },
    {
      name: 'a policy with service fields reports them as unknown keys',
      value: { kind: 'Policy', name: 'p', deploy: {}, replicas: 2 },
      problems: [{ path: '/replicas', message: "unknown key 'replicas'" }],
    },
    {
      name: 'a policy without a name is refused',
      value: { kind: 'Policy', deploy: {} },
      problems: [{ path: '/name', message: 'is required' }],
    },
    {
      name: "a policy's bad deploy field is reported at its path under /deploy",
      value: { kind: 'Policy', name: 'p', deploy: { canary: { analysis: { failureLimit: 1 } } } },
      problems: [{ path: '/deploy/canary/analysis', message: "needs 'successRate', 'latency' or both: without a threshold every interval would pass" }],
    },
    {
      name: "a policy's deploy may not refer to another policy",
      value: { kind: 'Policy', name: 'p', deploy: { policy: 'q' } },
      problems: [{ path: '/deploy/policy', message: 'a named policy must write its deploy section out: it cannot refer to another policy' }],
    },
    {
      name: "a policy's bad autoscale field is reported at its path under /autoscale",
      value: { kind: 'Policy', name: 'p', autoscale: { ...AUTOSCALE, minReplicas: 0 } },
      problems: [{ path: '/autoscale/minReplicas', message: "0 needs 'scaleToZero: {idleMs: N}': how long a service must be idle before it drains to zero" }],
    },
    {
      name: "a policy's autoscale may not refer to another policy",
      value: { kind: 'Policy', name: 'p', autoscale: { policy: 'q' } },
      problems: [{ path: '/autoscale/policy', message: 'a named policy must write its autoscale section out: it cannot refer to another policy' }],
    },
    {
      name: 'a policy with problems in both sections reports them all',
      value: { kind: 'Policy', name: 'p', deploy: { strategy: 'x' }, autoscale: { targetRps: 1 } },
      problems: [
        { path: '/deploy/strategy', message: "must be one of 'rolling', 'blue-green', 'canary'" },
        { path: '/autoscale/maxReplicas', message: 'is required' },
      ],
    },
  ];

  it.each(rejected)('$name', ({ value, problems }) => {
    const result = validatePolicySpec(value, FILE);
    expect(result.ok ? [] : result.problems.map(({ path, message }) => ({ path, message }))).toEqual(problems);
  });
});

describe('validatePolicyFolderDocument', () => {
  it('dispatches services and policies by kind', () => {
    const service = validatePolicyFolderDocument(base(), FILE);
    const policy = validatePolicyFolderDocument({ kind: 'Policy', name: 'p', deploy: {} }, FILE);
    expect([service.ok && service.value.kind, policy.ok && policy.value.kind]).toEqual(['Service', 'Policy']);
  });
});

describe('checkServiceSet', () => {
  function source(kind: 'Service' | 'Policy', name: string, file: string, extra: Record<string, unknown> = {}): PolicyFolderSource {
    const result = validatePolicyFolderDocument(kind === 'Service' ? base({ name, ...extra }) : { kind, name, deploy: {}, ...extra }, file);
    if (!result.ok) throw new Error('fixture must be valid');
    return { spec: result.value, file };
  }

  const cases: Array<{ name: string; sources: PolicyFolderSource[]; problems: Array<{ file: string; path: string; message: string }> }> = [
    {
      name: 'distinct names are fine',
      sources: [source('Service', 'a', 'policies/a.yaml'), source('Service', 'b', 'policies/b.yaml')],
      problems: [],
    },
    {
      name: 'a service name used in two files is reported on the later one, naming the first file',
      sources: [source('Service', 'api', 'policies/a.yaml'), source('Service', 'api', 'policies/b.yaml')],
      problems: [{ file: 'policies/b.yaml', path: '/name', message: "service name 'api' is already used in policies/a.yaml" }],
    },
    {
      name: 'a service name used twice in one file says so',
      sources: [source('Service', 'api', 'policies/a.yaml'), source('Service', 'api', 'policies/a.yaml')],
      problems: [{ file: 'policies/a.yaml', path: '/name', message: "service name 'api' is already used earlier in this file" }],
    },
    {
      name: 'a policy name used twice is reported as a policy',
      sources: [source('Policy', 'p', 'policies/a.yaml'), source('Policy', 'p', 'policies/b.yaml')],
      problems: [{ file: 'policies/b.yaml', path: '/name', message: "policy name 'p' is already used in policies/a.yaml" }],
    },
    {
      name: 'a service and a policy may share a name',
      sources: [source('Service', 'api', 'policies/a.yaml'), source('Policy', 'api', 'policies/a.yaml')],
      problems: [],
    },
    {
      name: 'a reference to a policy of the set is fine, wherever the policy stands',
      sources: [source('Service', 'api', 'policies/a.yaml', { deploy: { policy: 'careful' } }), source('Policy', 'careful', 'policies/z.yaml')],
      problems: [],
    },
    {
      name: 'a reference to a missing policy is reported at /deploy/policy, naming the policies there are',
      sources: [
        source('Service', 'api', 'policies/a.yaml', { deploy: { policy: 'carefull' } }),
        source('Policy', 'careful', 'policies/p.yaml'),
        source('Policy', 'elastic', 'policies/p.yaml', { deploy: undefined, autoscale: AUTOSCALE }),
      ],
      problems: [
        {
          file: 'policies/a.yaml',
          path: '/deploy/policy',
          message: "refers to policy 'carefull', but no 'kind: Policy' document has that name (deploy policies: careful)",
        },
      ],
    },
    {
      name: 'a reference in a set without policies says there are none',
      sources: [source('Service', 'api', 'policies/a.yaml', { deploy: { policy: 'careful' } })],
      problems: [
        { file: 'policies/a.yaml', path: '/deploy/policy', message: "refers to policy 'careful', but no 'kind: Policy' document has that name (no deploy policies here)" },
      ],
    },
    {
      name: 'a reference to a policy without deploy is reported at /deploy/policy',
      sources: [
        source('Policy', 'elastic', 'policies/p.yaml', { deploy: undefined, autoscale: AUTOSCALE }),
        source('Service', 'api', 'policies/a.yaml', { deploy: { policy: 'elastic' } }),
      ],
      problems: [{ file: 'policies/a.yaml', path: '/deploy/policy', message: "refers to policy 'elastic', which has no 'deploy' section" }],
    },
    {
      name: 'an autoscale reference to a policy of the set is fine',
      sources: [
        source('Policy', 'elastic', 'policies/p.yaml', { deploy: undefined, autoscale: AUTOSCALE }),
        source('Service', 'api', 'policies/a.yaml', { autoscale: { policy: 'elastic' } }),
      ],
      problems: [],
    },
    {
      name: 'an autoscale reference to a missing policy is reported at /autoscale/policy, naming the autoscale policies there are',
      sources: [
        source('Service', 'api', 'policies/a.yaml', { autoscale: { policy: 'elastik' } }),
        source('Policy', 'careful', 'policies/p.yaml'),
        source('Policy', 'elastic', 'policies/p.yaml', { deploy: undefined, autoscale: AUTOSCALE }),
      ],
      problems: [
        {
          file: 'policies/a.yaml',
          path: '/autoscale/policy',
          message: "refers to policy 'elastik', but no 'kind: Policy' document has that name (autoscale policies: elastic)",
        },
      ],
    },
    {
      name: 'an autoscale reference to a deploy-only policy is reported at /autoscale/policy',
      sources: [source('Policy', 'careful', 'policies/p.yaml'), source('Service', 'api', 'policies/a.yaml', { autoscale: { policy: 'careful' } })],
      problems: [{ file: 'policies/a.yaml', path: '/autoscale/policy', message: "refers to policy 'careful', which has no 'autoscale' section" }],
    },
    {
      name: 'a service with two bad references gets a problem for each',
      sources: [source('Service', 'api', 'policies/a.yaml', { deploy: { policy: 'x' }, autoscale: { policy: 'y' } })],
      problems: [
        { file: 'policies/a.yaml', path: '/deploy/policy', message: "refers to policy 'x', but no 'kind: Policy' document has that name (no deploy policies here)" },
        { file: 'policies/a.yaml', path: '/autoscale/policy', message: "refers to policy 'y', but no 'kind: Policy' document has that name (no autoscale policies here)" },
      ],
    },
    {
      name: 'a service named like a policy is not a policy: its reference still fails',
      sources: [source('Service', 'careful', 'policies/a.yaml', { deploy: { policy: 'careful' } })],
      problems: [
        { file: 'policies/a.yaml', path: '/deploy/policy', message: "refers to policy 'careful', but no 'kind: Policy' document has that name (no deploy policies here)" },
      ],
    },
  ];

  it.each(cases)('$name', ({ sources, problems }) => {
    expect(checkServiceSet(sources)).toEqual(problems);
  });
});

describe('resolveServices', () => {
  function spec(value: Record<string, unknown>): PolicyFolderDocument {
    const result = validatePolicyFolderDocument(value, FILE);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    return result.value;
  }

  const careful = spec({ kind: 'Policy', name: 'careful', deploy: { strategy: 'canary', canary: { analysis: { successRate: 0.99 } } } });

  it('publishes only services, in order, each a ServiceSpec', () => {
    const resolved = resolveServices([spec(base({ name: 'b' })), careful, spec(base({ name: 'a' }))]);
    expect(resolved.map((s) => s.name)).toEqual(['b', 'a']);
    expect(resolved.map((s) => s.kind)).toEqual(['Service', 'Service']);
  });

  it("replaces a reference with the named policy's deploy", () => {
    const [api] = resolveServices([spec(base({ deploy: { policy: 'careful' } })), careful]);
    expect(api?.deploy).toEqual(careful.deploy);
    expect(api?.deploy?.strategy).toBe('canary');
    expect(api !== undefined && deployPolicyOf(api).canary.analysis?.minSuccessRate).toBe(0.99);
    expect(Object.isFrozen(api)).toBe(true);
  });

  it('keeps a written-out deploy, and no deploy as none (the default policy)', () => {
    const own = spec(base({ name: 'own', deploy: { strategy: 'blue-green' } }));
    const [ownResolved, plain] = resolveServices([own, spec(base({ name: 'plain' })), careful]);
    expect(ownResolved?.deploy?.strategy).toBe('blue-green');
    expect(plain !== undefined && 'deploy' in plain).toBe(false);
    expect(plain !== undefined && deployPolicyOf(plain)).toBe(DEFAULT_DEPLOY_POLICY);
  });

  it('keeps every other field, version and a written-out autoscale included', () => {
    const written = spec(base({ version: '2.0.0', autoscale: AUTOSCALE, deploy: { policy: 'careful' } }));
    const [resolved] = resolveServices([written, careful]);
    expect(resolved).toEqual({ ...written, deploy: careful.deploy });
    expect(resolved !== undefined && autoscalePolicyOf(resolved)).toEqual(AUTOSCALE_POLICY);
  });

  it("replaces an autoscale reference with the named policy's autoscale, and no autoscale as none", () => {
    const elastic = spec({ kind: 'Policy', name: 'elastic', autoscale: { ...AUTOSCALE, targetLatencyP95Ms: 250 } });
    const [api, plain] = resolveServices([spec(base({ autoscale: { policy: 'elastic' } })), spec(base({ name: 'plain' })), elastic]);
    expect(api?.autoscale).toBe(elastic.autoscale);
    expect(api?.autoscale?.targetLatencyP95Ms).toBe(250);
    expect(Object.isFrozen(api)).toBe(true);
    expect(plain !== undefined && 'autoscale' in plain).toBe(false);
    expect(plain !== undefined && autoscalePolicyOf(plain)).toBeUndefined();
  });
});
