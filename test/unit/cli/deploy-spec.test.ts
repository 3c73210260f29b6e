import { describe, expect, it } from 'vitest';
import { deployOutcome, deploySpec, specDocument } from '../../../src/cli/deploy-spec.js';
import { validateServiceSpec } from '../../../src/config/service-schema.js';
import { NEW, OLD, PAUSED_CANARY, serviceView } from './rollout-views.js';

/** A service as GET /v1/services/:name shows its `spec`: validated, defaults filled in. */
function shownSpec(document: Record<string, unknown>): Record<string, unknown> {
  const checked = validateServiceSpec(document, 'body');
  if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
  return JSON.parse(JSON.stringify(checked.value)) as Record<string, unknown>;
}

const PROCESS = shownSpec({
  kind: 'Service',
  name: 'demo',
  runtime: { type: 'process', command: ['node', 'demo-app.mjs'] },
  replicas: 2,
  version: '1',
  env: { DEMO_LATENCY_MS: '0' },
  health: { intervalMs: 200, timeoutMs: 200 },
  deploy: { strategy: 'canary', canary: { steps: [{ setWeight: 50 }, { pause: {} }], analysis: { successRate: 0.99, intervalMs: 1000 } } },
  autoscale: { minReplicas: 1, maxReplicas: 4, targetRps: 50 },
});

const DOCKER = shownSpec({ kind: 'Service', name: 'web', runtime: { type: 'docker', image: 'web:1.0', network: 'bridge' }, port: 3000 });

describe('specDocument (what PUT accepts, from what GET shows)', () => {
  it('turns a shown spec back into a document that PUT validates to the same spec', () => {
    const again = validateServiceSpec(specDocument(PROCESS), 'body');
    expect(again.ok && JSON.parse(JSON.stringify(again.value))).toEqual(PROCESS);
  });

  it('renames the canary analysis threshold back: GET shows minSuccessRate, documents write successRate', () => {
    const analysis = (PROCESS['deploy'] as { canary: { analysis: Record<string, unknown> } }).canary.analysis;
    expect(analysis).toMatchObject({ minSuccessRate: 0.99 });
    // Why the rename is needed: PUT refuses the spec exactly as GET shows it.
    const asShown = validateServiceSpec(PROCESS, 'body');
    expect(asShown.ok).toBe(false);
    expect(!asShown.ok && asShown.problems.map((p) => p.path)).toContain('/deploy/canary/analysis/minSuccessRate');
    const sent = (specDocument(PROCESS)['deploy'] as { canary: { analysis: Record<string, unknown> } }).canary.analysis;
    expect(sent).toEqual({ intervalMs: 1000, minRequests: 50, failureLimit: 0, successRate: 0.99 });
  });

  it('does not change the spec it was given', () => {
    const before = JSON.stringify(PROCESS);
    specDocument(PROCESS);
    expect(JSON.stringify(PROCESS)).toBe(before);
  });
});

describe('deploySpec', () => {
  it('sets the version of any service, keeping every other field: a new revision', () => {
    const result = deploySpec('demo', PROCESS, { version: '2' });
    expect(result).toMatchObject({ ok: true, newRevision: true, changed: true });
    expect(result.ok && result.document).toEqual({ ...specDocument(PROCESS), version: '2' });
    expect(result.ok && validateServiceSpec(result.document, 'body').ok).toBe(true);
  });

  it('sets the image of a docker service, keeping its network and pull policy', () => {
    const result = deploySpec('web', DOCKER, { image: 'web:1.1' });
    expect(result.ok && result.document['runtime']).toEqual({ type: 'docker', image: 'web:1.1', network: 'bridge', pull: 'if-missing' });
    expect(result).toMatchObject({ newRevision: true, changed: true });
  });

  it('refuses --image for a process service, pointing at --version', () => {
    const result = deploySpec('demo', PROCESS, { image: 'demo:2' });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toMatch(/^--image: service 'demo' runs as a process .*use --version/);
  });

  it('reports no change when the image and version are the ones the spec already has', () => {
    expect(deploySpec('demo', PROCESS, { version: '1' })).toMatchObject({ ok: true, newRevision: false, changed: false });
    expect(deploySpec('web', DOCKER, { image: 'web:1.0' })).toMatchObject({ ok: true, newRevision: false, changed: false });
  });

  it('sets deploy.strategy keeping the rest of deploy; the strategy alone is a change but no new revision', () => {
    const result = deploySpec('demo', PROCESS, { version: '1', strategy: 'blue-green' });
    expect(result).toMatchObject({ ok: true, newRevision: false, changed: true });
    const deploy = (result.ok ? result.document['deploy'] : undefined) as Record<string, unknown>;
    expect(deploy).toEqual({ ...(specDocument(PROCESS)['deploy'] as object), strategy: 'blue-green' });
  });

  it('gives a service without deploy a deploy section holding only the strategy; rolling is its default already', () => {
    const result = deploySpec('web', DOCKER, { image: 'web:2', strategy: 'canary' });
    expect(result.ok && result.document['deploy']).toEqual({ strategy: 'canary' });
    expect(deploySpec('web', DOCKER, { image: 'web:1.0', strategy: 'rolling' })).toMatchObject({ ok: true, changed: false });
  });

  it('refuses --strategy for a service whose deploy names a policy, and keeps the reference otherwise', () => {
    const referring = { ...DOCKER, deploy: { policy: 'careful' } };
    const refused = deploySpec('web', referring, { image: 'web:2', strategy: 'canary' });
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.message).toMatch(/^--strategy: service 'web' takes its deploy section from policy 'careful'/);
    const kept = deploySpec('web', referring, { image: 'web:2' });
    expect(kept.ok && kept.document['deploy']).toEqual({ policy: 'careful' });
  });

  it('refuses a service this gateway does not run (endpoints from a provider: no spec)', () => {
    const result = deploySpec('ext', undefined, { version: '2' });
    expect(!result.ok && result.message).toMatch(/not managed by this gateway/);
  });
});

describe('deployOutcome (what the gateway did with the PUT)', () => {
  const settled = serviceView('demo', undefined, { revision: OLD, stableRevision: OLD });

  it('is pending while the service still shows the revision from before', () => {
    expect(deployOutcome(settled, settled)).toEqual({ kind: 'pending' });
  });

  it('is pending while the new revision is applied but its rollout is not planned yet', () => {
    expect(deployOutcome(settled, { ...settled, revision: NEW })).toEqual({ kind: 'pending' });
  });

  it('reports the new rollout to the new revision', () => {
    const now = serviceView('demo', PAUSED_CANARY);
    expect(deployOutcome(settled, now)).toEqual({ kind: 'started', rollout: PAUSED_CANARY, superseded: undefined });
  });

  it('names the running rollout that the new one superseded', () => {
    const before = serviceView('demo', { ...PAUSED_CANARY, id: 'demo#1', toRevision: 'c0ffee0000' }, { revision: 'c0ffee0000' });
    expect(deployOutcome(before, serviceView('demo', PAUSED_CANARY))).toMatchObject({ kind: 'started', superseded: 'demo#1' });
  });

  it('reports a revision that serves at once (no replicas to roll)', () => {
    expect(deployOutcome(settled, { ...settled, revision: NEW, stableRevision: NEW })).toEqual({ kind: 'serves', revision: NEW, rollout: undefined });
  });

  it('reports going back to the serving revision, with the running rollout it ended', () => {
    const before = serviceView('demo', PAUSED_CANARY);
    const aborted = { ...PAUSED_CANARY, phase: 'Aborted' as const, message: `spec reverted to ${OLD}` };
    expect(deployOutcome(before, serviceView('demo', PAUSED_CANARY, { revision: OLD }))).toEqual({ kind: 'pending' });
    expect(deployOutcome(before, serviceView('demo', aborted, { revision: OLD }))).toEqual({ kind: 'serves', revision: OLD, rollout: aborted });
  });
});
