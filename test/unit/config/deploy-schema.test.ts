// The `deploy` section: defaults, every problem with its JSON path, the planners' own rules
// (both-zero surge, canary steps), preview normalisation and the reference form. Pure.
import { describe, expect, it } from 'vitest';
import { validateDeployPolicy, validateDeploySection, MAX_CANARY_STEPS } from '../../../src/config/deploy-schema.js';
import { isRouteName } from '../../../src/config/route-schema.js';
import { checkCanarySteps } from '../../../src/deploy/plan/canary.js';
import { resolveSurgeAndUnavailable } from '../../../src/deploy/plan/rolling.js';
import { DEFAULT_DEPLOY_POLICY, type DeployPolicy } from '../../../src/model/deploy.js';
import { deployPolicyOf } from '../../../src/model/service.js';

const FILE = 'policies/api.yaml';

function policyOf(value: unknown): DeployPolicy {
  const result = validateDeployPolicy(value, FILE);
  if (!result.ok) throw new Error(`expected a valid policy, got ${JSON.stringify(result.problems)}`);
  return result.value;
}

function problemsOf(value: unknown): Array<{ path: string; message: string }> {
  const result = validateDeploySection(value, FILE);
  if (result.ok) return [];
  for (const problem of result.problems) expect(problem.file).toBe(FILE);
  return result.problems.map(({ path, message }) => ({ path, message }));
}

describe('validateDeploySection: accepted policies', () => {
  it('fills every default into an empty section: the default policy', () => {
    expect(validateDeploySection({}, FILE)).toEqual({ ok: true, value: DEFAULT_DEPLOY_POLICY });
    expect(DEFAULT_DEPLOY_POLICY).toEqual({
      strategy: 'rolling',
      progressDeadlineMs: 600_000,
      autoRollback: true,
      revisionHistoryLimit: 10,
      rolling: { maxSurge: '25%', maxUnavailable: '25%', minReadyMs: 0 },
      blueGreen: { autoPromote: true, autoPromoteDelayMs: 0, scaleDownDelayMs: 30_000 },
      canary: {
        steps: [{ setWeight: 20 }, { pause: { durationMs: 30_000 } }, { setWeight: 50 }, { pause: { durationMs: 30_000 } }],
        stickySessions: false,
      },
    });
  });

  it('keeps a field set inside a section and defaults the rest of that section', () => {
    expect(policyOf({ rolling: { maxSurge: 0 } }).rolling).toEqual({ maxSurge: 0, maxUnavailable: '25%', minReadyMs: 0 });
    expect(policyOf({ blueGreen: { autoPromote: false } }).blueGreen).toEqual({ autoPromote: false, autoPromoteDelayMs: 0, scaleDownDelayMs: 30_000 });
  });

  const strategies: Array<{ name: string; value: Record<string, unknown>; expected: Partial<DeployPolicy> }> = [
    {
      name: 'a rolling policy with counts and a percentage, exactly as written',
      value: { strategy: 'rolling', progressDeadlineMs: 1_000, autoRollback: false, revisionHistoryLimit: 1, rolling: { maxSurge: 2, maxUnavailable: '0%', minReadyMs: 500 } },
      expected: { strategy: 'rolling', progressDeadlineMs: 1_000, autoRollback: false, revisionHistoryLimit: 1, rolling: { maxSurge: 2, maxUnavailable: '0%', minReadyMs: 500 } },
    },
    {
      name: 'a blue-green policy with manual promotion and preview: true (the default header)',
      value: { strategy: 'blue-green', blueGreen: { autoPromote: false, autoPromoteDelayMs: 10_000, scaleDownDelayMs: 0, preview: true } },
      expected: {
        strategy: 'blue-green',
        blueGreen: { autoPromote: false, autoPromoteDelayMs: 10_000, scaleDownDelayMs: 0, preview: { header: 'x-dockmaster-preview', value: '1' } },
      },
    },
    {
      name: 'a canary policy with steps, sticky sessions and a full analysis (successRate -> minSuccessRate)',
      value: {
        strategy: 'canary',
        canary: {
          steps: [{ setWeight: 10 }, { pause: { durationMs: 0 } }, { setWeight: 100 }, { pause: {} }],
          stickySessions: true,
          analysis: { intervalMs: 100, minRequests: 1, failureLimit: 2, successRate: 0.99, latency: { percentile: 'p95', maxMs: 250 } },
        },
      },
      expected: {
        strategy: 'canary',
        canary: {
          steps: [{ setWeight: 10 }, { pause: { durationMs: 0 } }, { setWeight: 100 }, { pause: {} }],
          stickySessions: true,
          analysis: { intervalMs: 100, minRequests: 1, failureLimit: 2, minSuccessRate: 0.99, latency: { percentile: 'p95', maxMs: 250 } },
        },
      },
    },
    {
      name: 'a canary analysis with only a success rate gets the default interval, minimum and limit, no latency',
      value: { strategy: 'canary', canary: { analysis: { successRate: 0.99 } } },
      expected: {
        strategy: 'canary',
        canary: {
          steps: DEFAULT_DEPLOY_POLICY.canary.steps,
          stickySessions: false,
          analysis: { intervalMs: 10_000, minRequests: 50, failureLimit: 0, minSuccessRate: 0.99 },
        },
      },
    },
    {
      name: 'a latency threshold without a percentile uses p99',
      value: { canary: { analysis: { latency: { maxMs: 500 } } } },
      expected: { canary: { steps: DEFAULT_DEPLOY_POLICY.canary.steps, stickySessions: false, analysis: { intervalMs: 10_000, minRequests: 50, failureLimit: 0, latency: { percentile: 'p99', maxMs: 500 } } } },
    },
  ];

  it.each(strategies)('$name', ({ value, expected }) => {
    const policy = policyOf(value);
    expect(policy).toEqual({ ...DEFAULT_DEPLOY_POLICY, ...expected });
    // The planners accept what the schema accepts.
    expect(checkCanarySteps(policy.canary.steps)).toEqual([]);
    expect(resolveSurgeAndUnavailable(4, policy.rolling.maxSurge, policy.rolling.maxUnavailable).ok).toBe(true);
  });

  const previews: Array<{ name: string; preview: unknown; expected: unknown }> = [
    { name: 'true gives the default header and value', preview: true, expected: { header: 'x-dockmaster-preview', value: '1' } },
    { name: 'false gives no preview', preview: false, expected: undefined },
    { name: 'an object gives its header, lower-cased', preview: { header: 'X-Canary-Preview', value: 'yes please' }, expected: { header: 'x-canary-preview', value: 'yes please' } },
    { name: 'an object without value gets the default value', preview: { header: 'x-preview' }, expected: { header: 'x-preview', value: '1' } },
    { name: 'an empty object gets both defaults', preview: {}, expected: { header: 'x-dockmaster-preview', value: '1' } },
  ];

  it.each(previews)('preview: $name', ({ preview, expected }) => {
    const policy = policyOf({ strategy: 'blue-green', blueGreen: { preview } });
    expect(policy.blueGreen.preview).toEqual(expected);
    expect('preview' in policy.blueGreen).toBe(expected !== undefined);
  });

  it.each([
    ['1', 1],
    ["'25%'", '25%'],
    ["'0%'", '0%'],
    ["'150%' (a surge may exceed the replica count)", '150%'],
  ])('accepts maxSurge %s', (_label, maxSurge) => {
    expect(policyOf({ rolling: { maxSurge } }).rolling.maxSurge).toBe(maxSurge);
  });

  it('reads a validated policy written back as a document (minSuccessRate as successRate) as itself', () => {
    // What `dockmaster deploy` relies on: GET shows the policy, PUT takes it back field for field.
    for (const { value } of strategies) {
      const policy = policyOf(value);
      const { analysis, ...canary } = policy.canary;
      const written = JSON.parse(JSON.stringify({ ...policy, canary: { ...canary, ...(analysis ? { analysis: { ...analysis, minSuccessRate: undefined, successRate: analysis.minSuccessRate } } : {}) } }));
      expect(policyOf(written)).toEqual(policy);
    }
  });

  it('returns a frozen policy that does not share the input', () => {
    const input = { canary: { steps: [{ setWeight: 5 }], analysis: { successRate: 0.5 } }, blueGreen: { preview: { header: 'X-P' } } };
    const policy = policyOf(input);
    for (const part of [policy, policy.rolling, policy.blueGreen, policy.blueGreen.preview, policy.canary, policy.canary.steps, policy.canary.steps[0], policy.canary.analysis]) {
      expect(Object.isFrozen(part)).toBe(true);
    }
    expect(Object.isFrozen(input.canary.steps)).toBe(false);
    expect(policy.canary.steps).not.toBe(input.canary.steps);
  });
});

describe('validateDeploySection: rejected sections', () => {
  const rejected: Array<{ name: string; value: unknown; problems: Array<{ path: string; message: string }> }> = [
    { name: 'a section that is not a mapping', value: 'canary', problems: [{ path: '/deploy', message: 'must be a mapping of keys to values' }] },
    { name: 'an unknown strategy', value: { strategy: 'recreate' }, problems: [{ path: '/deploy/strategy', message: "must be one of 'rolling', 'blue-green', 'canary'" }] },
    { name: 'an unknown key at the top', value: { steps: [] }, problems: [{ path: '/deploy/steps', message: "unknown key 'steps'" }] },
    { name: 'an unknown key inside a section', value: { rolling: { surge: 1 } }, problems: [{ path: '/deploy/rolling/surge', message: "unknown key 'surge'" }] },
    { name: 'a progress deadline under a second', value: { progressDeadlineMs: 999 }, problems: [{ path: '/deploy/progressDeadlineMs', message: 'must be an integer from 1000 to 86400000' }] },
    { name: 'a revision history of 0', value: { revisionHistoryLimit: 0 }, problems: [{ path: '/deploy/revisionHistoryLimit', message: 'must be an integer from 1 to 100' }] },
    { name: 'autoRollback as a string', value: { autoRollback: 'yes' }, problems: [{ path: '/deploy/autoRollback', message: 'must be true or false' }] },
    {
      name: 'maxSurge and maxUnavailable both 0',
      value: { rolling: { maxSurge: 0, maxUnavailable: 0 } },
      problems: [{ path: '/deploy/rolling', message: 'maxSurge and maxUnavailable may not both be 0' }],
    },
    {
      name: "maxSurge 0 and maxUnavailable '0%'",
      value: { rolling: { maxSurge: 0, maxUnavailable: '0%' } },
      problems: [{ path: '/deploy/rolling', message: 'maxSurge and maxUnavailable may not both be 0' }],
    },
    ...[-1, 1.5, '1.5%', '25', 'abc%', '%', '-5%', true].map((maxSurge) => ({
      name: `maxSurge ${JSON.stringify(maxSurge)}`,
      value: { rolling: { maxSurge } },
      problems: [{ path: '/deploy/rolling/maxSurge', message: "must be a count from 0 to 1000 or a whole percentage like '25%'" }],
    })),
    { name: "maxUnavailable '101%'", value: { rolling: { maxUnavailable: '101%' } }, problems: [{ path: '/deploy/rolling/maxUnavailable', message: "must be at most '100%'" }] },
    { name: 'a negative minReadyMs', value: { rolling: { minReadyMs: -1 } }, problems: [{ path: '/deploy/rolling/minReadyMs', message: 'must be an integer from 0 to 86400000' }] },
    {
      name: 'a minReadyMs not below the progress deadline',
      value: { progressDeadlineMs: 5_000, rolling: { minReadyMs: 5_000 } },
      problems: [{ path: '/deploy/rolling/minReadyMs', message: 'must be less than progressDeadlineMs (5000)' }],
    },
    { name: 'a negative scale-down delay', value: { blueGreen: { scaleDownDelayMs: -5 } }, problems: [{ path: '/deploy/blueGreen/scaleDownDelayMs', message: 'must be an integer from 0 to 86400000' }] },
    {
      name: 'a preview header that is not an HTTP token',
      value: { blueGreen: { preview: { header: 'x preview', value: '1' } } },
      problems: [{ path: '/deploy/blueGreen/preview/header', message: "must be an HTTP header name: letters, digits and !#$%&'*+-.^_`|~" }],
    },
    {
      name: 'an empty preview value',
      value: { blueGreen: { preview: { header: 'x-p', value: '' } } },
      problems: [{ path: '/deploy/blueGreen/preview/value', message: 'must be a non-empty header value of printable ASCII, without leading or trailing spaces' }],
    },
    {
      name: 'an unknown key in preview',
      value: { blueGreen: { preview: { header: 'x-p', cookie: 'c' } } },
      problems: [{ path: '/deploy/blueGreen/preview/cookie', message: "unknown key 'cookie'" }],
    },
    { name: 'a preview written as a header name', value: { blueGreen: { preview: 'x-p' } }, problems: [{ path: '/deploy/blueGreen/preview', message: 'must be true, false or a mapping {header, value}' }] },
    {
      name: 'a step with setWeight and pause at once',
      value: { canary: { steps: [{ setWeight: 20 }, { setWeight: 20, pause: {} }] } },
      problems: [{ path: '/deploy/canary/steps/1', message: "must hold exactly one of 'setWeight' (a percentage) or 'pause' ({} or {durationMs})" }],
    },
    {
      name: 'a step that is a bare number',
      value: { canary: { steps: [10] } },
      problems: [{ path: '/deploy/canary/steps/0', message: "must hold exactly one of 'setWeight' (a percentage) or 'pause' ({} or {durationMs})" }],
    },
    { name: 'a weight over 100', value: { canary: { steps: [{ setWeight: 101 }] } }, problems: [{ path: '/deploy/canary/steps/0/setWeight', message: 'must be an integer from 0 to 100' }] },
    { name: 'a fractional weight', value: { canary: { steps: [{ setWeight: 12.5 }] } }, problems: [{ path: '/deploy/canary/steps/0/setWeight', message: 'must be an integer from 0 to 100' }] },
    { name: 'a negative pause', value: { canary: { steps: [{ pause: { durationMs: -1 } }] } }, problems: [{ path: '/deploy/canary/steps/0/pause/durationMs', message: 'must be an integer from 0 to 86400000' }] },
    {
      name: 'a pause written as `pause:` (null)',
      value: { canary: { steps: [{ pause: null }] } },
      problems: [{ path: '/deploy/canary/steps/0/pause', message: 'must be a mapping: {} waits for resume or promote, {durationMs: N} waits N ms' }],
    },
    { name: 'a pause with an unknown key', value: { canary: { steps: [{ pause: { seconds: 30 } }] } }, problems: [{ path: '/deploy/canary/steps/0/pause/seconds', message: "unknown key 'seconds'" }] },
    { name: 'an empty step list', value: { canary: { steps: [] } }, problems: [{ path: '/deploy/canary/steps', message: 'must list at least 1 item(s)' }] },
    {
      name: `more than ${MAX_CANARY_STEPS} steps`,
      value: { canary: { steps: Array.from({ length: MAX_CANARY_STEPS + 1 }, () => ({ setWeight: 1 })) } },
      problems: [{ path: '/deploy/canary/steps', message: `must list at most ${MAX_CANARY_STEPS} items` }],
    },
    {
      name: 'an analysis without successRate or latency',
      value: { canary: { analysis: { minRequests: 10 } } },
      problems: [{ path: '/deploy/canary/analysis', message: "needs 'successRate', 'latency' or both: without a threshold every interval would pass" }],
    },
    { name: 'a success rate above 1', value: { canary: { analysis: { successRate: 99 } } }, problems: [{ path: '/deploy/canary/analysis/successRate', message: 'must be a number from 0 to 1' }] },
    { name: 'an analysis interval under 100 ms', value: { canary: { analysis: { successRate: 0.9, intervalMs: 99 } } }, problems: [{ path: '/deploy/canary/analysis/intervalMs', message: 'must be an integer from 100 to 3600000' }] },
    { name: 'minRequests of 0', value: { canary: { analysis: { successRate: 0.9, minRequests: 0 } } }, problems: [{ path: '/deploy/canary/analysis/minRequests', message: 'must be an integer from 1 to 1000000000' }] },
    { name: 'a negative failureLimit', value: { canary: { analysis: { successRate: 0.9, failureLimit: -1 } } }, problems: [{ path: '/deploy/canary/analysis/failureLimit', message: 'must be an integer from 0 to 1000' }] },
    {
      name: 'a latency percentile other than p95 or p99, and a missing maxMs',
      value: { canary: { analysis: { latency: { percentile: 'p50' } } } },
      problems: [
        { path: '/deploy/canary/analysis/latency/maxMs', message: 'is required' },
        { path: '/deploy/canary/analysis/latency/percentile', message: "must be one of 'p99', 'p95'" },
      ],
    },
    {
      name: 'a reference with other keys',
      value: { policy: 'careful', strategy: 'canary' },
      problems: [{ path: '/deploy/strategy', message: "unknown key 'strategy': a reference to a named policy holds only 'policy'" }],
    },
    {
      name: 'a reference to a name that is not a DNS label',
      value: { policy: 'Careful' },
      problems: [{ path: '/deploy/policy', message: 'must be 1 to 63 lower-case letters, digits or dashes, starting and ending with a letter or digit' }],
    },
    { name: 'a reference that is not a string', value: { policy: 5 }, problems: [{ path: '/deploy/policy', message: 'must be a string' }] },
  ];

  it.each(rejected)('$name is reported at its path', ({ value, problems }) => {
    expect(problemsOf(value)).toEqual(problems);
  });

  it('reports every problem of a section at once', () => {
    const paths = problemsOf({
      strategy: 'x',
      rolling: { maxSurge: 0, maxUnavailable: 0 },
      blueGreen: { preview: { header: '' } },
      canary: { steps: [{ setWeight: -1 }, {}], analysis: {} },
    }).map((p) => p.path);
    expect(paths).toEqual([
      '/deploy/strategy',
      '/deploy/rolling',
      '/deploy/blueGreen/preview/header',
      '/deploy/canary/steps/0/setWeight',
      '/deploy/canary/steps/1',
      '/deploy/canary/analysis',
    ]);
  });

  it('puts problems under the base path it is given', () => {
    const result = validateDeploySection({ strategy: 'x' }, FILE, '/spec/deploy');
    expect(result.ok ? [] : result.problems.map((p) => p.path)).toEqual(['/spec/deploy/strategy']);
  });
});

describe('validateDeploySection: references', () => {
  it('accepts { policy: NAME } as a frozen reference', () => {
    const result = validateDeploySection({ policy: 'careful' }, FILE);
    expect(result).toEqual({ ok: true, value: { policy: 'careful' } });
    expect(result.ok && Object.isFrozen(result.value)).toBe(true);
  });

  it('uses the same name rule as services and routes', () => {
    for (const name of ['a', 'careful', 'canary-2', 'a'.repeat(63), 'a'.repeat(64), 'Careful', '-a', 'a-', 'a_b', 'a.b', '']) {
      expect({ name, ok: validateDeploySection({ policy: name }, FILE).ok }).toEqual({ name, ok: isRouteName(name) });
    }
  });

  it('is refused where only a written-out policy may stand (a named policy)', () => {
    expect(validateDeployPolicy({ policy: 'other' }, FILE, '/deploy')).toEqual({
      ok: false,
      problems: [{ file: FILE, path: '/deploy/policy', message: 'a named policy must write its deploy section out: it cannot refer to another policy' }],
    });
  });
});

describe('deployPolicyOf', () => {
  it('is the service policy, or the default one when the service sets none', () => {
    const canary = policyOf({ strategy: 'canary' });
    expect(deployPolicyOf({ deploy: canary })).toBe(canary);
    expect(deployPolicyOf({})).toBe(DEFAULT_DEPLOY_POLICY);
    expect(Object.isFrozen(DEFAULT_DEPLOY_POLICY.canary.steps[1])).toBe(true);
  });
});
