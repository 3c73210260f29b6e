import { describe, expect, it } from 'vitest';
import {
  applyCommand,
  applyRollback,
  emptyDeployState,
  findRevision,
  onRolloutPlanned,
  onSpec,
  pruneRevisions,
  recordRevision,
  servingRevision,
  type CommandName,
  type SpecInput,
} from '../../../src/deploy/deploy-state.js';
import { newRollout } from '../../../src/deploy/plan/plan-rollout.js';
import type { DeployPolicy } from '../../../src/model/deploy.js';
import type { RevisionRecord, Rollout, RolloutPhase, ServiceDeployState } from '../../../src/model/rollout.js';
import { policyWith } from './rollout-fixtures.js';

type State = ServiceDeployState<string>;
const NOW = 50_000;
const rolling = policyWith({ revisionHistoryLimit: 3 });
const canaryPolicy = policyWith({ strategy: 'canary' });
const blueGreenPolicy = policyWith({ strategy: 'blue-green', blueGreen: { autoPromote: false, autoPromoteDelayMs: 0, scaleDownDelayMs: 30_000 } });

const rec = (revision: string, servedAtMs?: number): RevisionRecord<string> => ({ revision, template: `tpl-${revision}`, createdAtMs: 0, servedAtMs });

function stateWith(fields: Partial<State> = {}): State {
  return { ...emptyDeployState<string>('svc'), stableRevision: 'A', revisions: [rec('A', 10)], ...fields };
}

function input(specRevision: string, fields: Partial<SpecInput> = {}): SpecInput {
  return { specRevision, desiredReplicas: 4, policy: rolling, activeByRevision: new Map([['A', 4]]), nowMs: NOW, ...fields };
}

function rolloutOf(from: string, to: string, fields: Partial<Rollout> = {}, policy: DeployPolicy = rolling, number = 1): Rollout {
  return { ...newRollout({ service: 'svc', number, kind: 'deploy', policy, fromRevision: from, toRevision: to, desiredReplicas: 4, oldActive: 4, nowMs: 1_000 }), ...fields };
}

/** Stable A with a rollout A -> B in `phase`. */
function withRollout(phase: RolloutPhase, fields: Partial<Rollout> = {}, policy: DeployPolicy = rolling): State {
  return stateWith({ revisions: [rec('B'), rec('A', 10)], rollout: rolloutOf('A', 'B', { phase, ...fields }, policy), nextRolloutNumber: 2 });
}

describe('onSpec (the worked examples of its doc comment)', () => {
  it('a new service: the first revision serves at once, without a rollout', () => {
    const empty = recordRevision(emptyDeployState<string>('svc'), 'B', 'tpl-B', 0, 10);
    const d = onSpec(empty, input('B', { activeByRevision: new Map() }));
    expect(d.state).toMatchObject({ stableRevision: 'B', nextRolloutNumber: 1 });
    expect(d.state.rollout).toBeUndefined();
    expect(d.state.revisions[0]).toMatchObject({ revision: 'B', servedAtMs: NOW });
    expect(d.event).toEqual({ type: 'service.revision', message: 'B serves (first revision)' });
    expect(onSpec(d.state, input('B'))).toEqual({ state: d.state });
  });

  it('a new spec starts a rollout from the stable revision, counting the old replicas as its baseline', () => {
    const state = stateWith({ revisions: [rec('B'), rec('A', 10)] });
    const d = onSpec(state, input('B', { activeByRevision: new Map([['A', 4], ['B', 1]]) }));
    expect(d.state.rollout).toMatchObject({ id: 'svc#1', kind: 'deploy', fromRevision: 'A', toRevision: 'B', phase: 'Progressing', startedAtMs: NOW });
    expect(d.state.rollout?.rolling?.progress).toEqual({ atMs: NOW, newAvailable: 0, oldActive: 4 });
    expect(d.state).toMatchObject({ stableRevision: 'A', nextRolloutNumber: 2 });
    expect(d.event).toEqual({ type: 'rollout.created', message: 'rollout A -> B (rolling)' });
  });

  it('the same spec while its rollout runs changes nothing', () => {
    const state = withRollout('Progressing');
    expect(onSpec(state, input('B'))).toEqual({ state });
  });

  it('the stable spec with nothing running changes nothing', () => {
    const state = stateWith();
    expect(onSpec(state, input('A'))).toEqual({ state });
  });

  it('a third spec supersedes the running rollout: A -> B Aborted, A -> C starts', () => {
    const d = onSpec(withRollout('Progressing'), input('C'));
    expect(d.state.rollout).toMatchObject({ id: 'svc#2', fromRevision: 'A', toRevision: 'C', phase: 'Progressing' });
    expect(d.state).toMatchObject({ stableRevision: 'A', heldBackRevision: undefined, nextRolloutNumber: 3 });
    expect(d.event).toEqual({ type: 'rollout.superseded', message: 'svc#1 superseded: rollout A -> C' });
  });

  it('the spec reverted to the old revision asks the running rollout to abort, once', () => {
    const d = onSpec(withRollout('Paused'), input('A'));
    expect(d.state.rollout).toMatchObject({ id: 'svc#1', phase: 'Paused', request: 'abort' });
    expect(d.event).toEqual({ type: 'rollout.abort-requested', message: 'svc#1: spec reverted to A' });
    expect(onSpec(d.state, input('A'))).toEqual({ state: d.state });
  });

  it('a revision held back after an abort stays back until the spec changes', () => {
    const state = { ...withRollout('Aborted'), heldBackRevision: 'B' };
    expect(onSpec(state, input('B'))).toEqual({ state });
    const c = onSpec(state, input('C'));
    expect(c.state.rollout).toMatchObject({ fromRevision: 'A', toRevision: 'C', phase: 'Progressing' });
    expect(c.state.heldBackRevision).toBeUndefined();
    const a = onSpec(state, input('A'));
    expect(a.state).toMatchObject({ stableRevision: 'A', heldBackRevision: undefined });
    expect(a.state.rollout?.phase).toBe('Aborted');
  });

  it('desired replicas 0: the new revision serves at once', () => {
    const d = onSpec(stateWith({ revisions: [rec('B'), rec('A', 10)], heldBackRevision: 'X' }), input('B', { desiredReplicas: 0 }));
    expect(d.state.stableRevision).toBe('B');
    expect(d.state.heldBackRevision).toBeUndefined();
    expect(d.state.rollout).toBeUndefined();
    expect(d.event?.type).toBe('service.revision');
  });

  it('a Failed rollout stays frozen while the spec still names its revision', () => {
    const state = withRollout('Failed');
    expect(onSpec(state, input('B'))).toEqual({ state });
  });

  it('the spec reverted to the stable revision ends a Failed rollout, so the old revision is restored', () => {
    // A Failed rollout is frozen "until an abort or a new spec"; the controller does nothing at all
    // for a Failed rollout (no steady-state plan), so left Failed the replicas of B would stay.
    const d = onSpec(withRollout('Failed'), input('A'));
    expect(d.state.rollout?.phase).not.toBe('Failed');
    expect(d.state.stableRevision).toBe('A');
  });

  it('a new spec after a Failed rollout starts a fresh rollout from the stable revision', () => {
    const d = onSpec(withRollout('Failed'), input('C'));
    expect(d.state.rollout).toMatchObject({ id: 'svc#2', fromRevision: 'A', toRevision: 'C', phase: 'Progressing' });
  });

  it('a running rollback ignores the spec revision it left', () => {
    const state = stateWith({ heldBackRevision: 'A', revisions: [rec('A', 10), rec('X', 5)], rollout: rolloutOf('A', 'X', { kind: 'rollback' }) });
    expect(onSpec(state, input('A'))).toEqual({ state });
  });
});

describe('onRolloutPlanned', () => {
  const ended = (state: State, phase: RolloutPhase): Rollout => ({ ...(state.rollout as Rollout), phase, finishedAtMs: NOW });

  it('Succeeded: the new revision becomes stable, marked served, and nothing is held back', () => {
    const state = { ...withRollout('Progressing'), heldBackRevision: 'Z' };
    const next = onRolloutPlanned(state, ended(state, 'Succeeded'), NOW);
    expect(next).toMatchObject({ stableRevision: 'B', heldBackRevision: undefined, rollout: { phase: 'Succeeded' } });
    expect(next.revisions.find((r) => r.revision === 'B')?.servedAtMs).toBe(NOW);
  });

  it.each<RolloutPhase>(['Aborted', 'RolledBack'])('%s: the stable revision stays and the new one is held back', (phase) => {
    const state = withRollout('Progressing');
    expect(onRolloutPlanned(state, ended(state, phase), NOW)).toMatchObject({ stableRevision: 'A', heldBackRevision: 'B', rollout: { phase } });
  });

  it('a running rollout only replaces the stored rollout', () => {
    const state = withRollout('Progressing');
    const next = onRolloutPlanned(state, { ...(state.rollout as Rollout), phase: 'Paused' }, NOW);
    expect(next).toEqual({ ...state, rollout: { ...state.rollout, phase: 'Paused' } });
  });

  it('a rollout that had already ended moves nothing', () => {
    const state = withRollout('Aborted');
    expect(onRolloutPlanned(state, state.rollout as Rollout, NOW)).toEqual(state);
  });

  describe('a rollback (kind rollback) keeps the spec revision held back', () => {
    const rollback = stateWith({ heldBackRevision: 'A', revisions: [rec('A', 10), rec('X', 5)], rollout: rolloutOf('A', 'X', { kind: 'rollback' }) });

    it('Succeeded: the earlier revision serves, the spec revision stays held back', () => {
      expect(onRolloutPlanned(rollback, ended(rollback, 'Succeeded'), NOW)).toMatchObject({ stableRevision: 'X', heldBackRevision: 'A' });
    });

    it.each<RolloutPhase>(['Aborted', 'RolledBack'])('%s: nothing else changes', (phase) => {
      expect(onRolloutPlanned(rollback, ended(rollback, phase), NOW)).toMatchObject({ stableRevision: 'A', heldBackRevision: 'A' });
    });
  });
});

describe('applyCommand', () => {
  it.each<[string, State, CommandName, string]>([
    ['no rollout at all', stateWith(), 'pause', 'DM_ERR_DEPLOY_NO_ROLLOUT'],
    ['pause after success', withRollout('Succeeded'), 'pause', 'DM_ERR_DEPLOY_NO_ROLLOUT'],
    ['abort after success', withRollout('Succeeded'), 'abort', 'DM_ERR_DEPLOY_NO_ROLLOUT'],
    ['promote after an abort', withRollout('Aborted'), 'promote', 'DM_ERR_DEPLOY_NO_ROLLOUT'],
    ['resume of a Failed rollout', withRollout('Failed'), 'resume', 'DM_ERR_DEPLOY_NO_ROLLOUT'],
    ['pause of a paused rollout', withRollout('Paused', { paused: true }), 'pause', 'DM_ERR_DEPLOY_NOT_ALLOWED'],
    ['resume of a rollout that is not paused', withRollout('Progressing'), 'resume', 'DM_ERR_DEPLOY_NOT_ALLOWED'],
    ['promote of a rolling rollout', withRollout('Progressing'), 'promote', 'DM_ERR_DEPLOY_NOT_ALLOWED'],
  ])('refuses %s', (_name, state, command, code) => {
    const result = applyCommand(state, command, NOW);
    expect(result).toMatchObject({ ok: false, code });
    if (!result.ok) expect(result.message).not.toBe('');
  });

  it.each<[string, State, CommandName, Partial<Rollout>, string]>([
    ['pause', withRollout('Progressing'), 'pause', { paused: true }, 'paused'],
    ['resume of a paused rollout', withRollout('Paused', { paused: true }), 'resume', { paused: false }, 'resumed'],
    ['resume of a canary waiting at its pause step', withRollout('Paused', {}, canaryPolicy), 'resume', { request: 'resume' }, 'resumed'],
    ['resume of a blue-green waiting for promote', withRollout('Paused', {}, blueGreenPolicy), 'resume', { request: 'promote' }, 'promoted'],
    ['promote of a paused canary', withRollout('Paused', { paused: true }, canaryPolicy), 'promote', { request: 'promote', paused: false }, 'promoted'],
    ['abort', withRollout('Progressing'), 'abort', { request: 'abort', phase: 'Progressing' }, 'aborting'],
  ])('applies %s', (_name, state, command, fields, message) => {
    const result = applyCommand(state, command, NOW);
    expect(result).toMatchObject({ ok: true, message, state: { rollout: { ...fields, updatedAtMs: NOW } } });
  });

  it('abort of a Failed rollout ends it Aborted at once and holds its revision back', () => {
    const result = applyCommand(withRollout('Failed'), 'abort', NOW);
    expect(result).toMatchObject({ ok: true, message: 'aborted', state: { heldBackRevision: 'B', stableRevision: 'A', rollout: { phase: 'Aborted', finishedAtMs: NOW } } });
  });
});

describe('applyRollback', () => {
  const history = stateWith({ stableRevision: 'C', revisions: [rec('C', 300), rec('B', 200), rec('A', 100)] });
  const spec = (specRevision: string): SpecInput => input(specRevision, { activeByRevision: new Map([['C', 4]]) });

  it('by default goes back to the newest earlier revision that served, holding the spec back', () => {
    const result = applyRollback(history, undefined, spec('C'));
    expect(result).toMatchObject({ ok: true, toRevision: 'B', message: 'rollback C -> B', state: { heldBackRevision: 'C', stableRevision: 'C', nextRolloutNumber: 2 } });
    if (result.ok) expect(result.state.rollout).toMatchObject({ kind: 'rollback', fromRevision: 'C', toRevision: 'B', phase: 'Progressing' });
  });

  it('by default skips revisions that never served', () => {
    const state = stateWith({ stableRevision: 'C', heldBackRevision: 'D', revisions: [rec('D'), rec('C', 300), rec('B', 200)] });
    expect(applyRollback(state, undefined, spec('D'))).toMatchObject({ ok: true, toRevision: 'B', state: { heldBackRevision: 'D' } });
  });

  it('refuses when there is no earlier revision', () => {
    expect(applyRollback(stateWith(), undefined, input('A'))).toMatchObject({ ok: false, code: 'DM_ERR_DEPLOY_UNKNOWN_REVISION' });
  });

  it('refuses a service without a revision yet', () => {
    expect(applyRollback(emptyDeployState<string>('svc'), undefined, input('A'))).toMatchObject({ ok: false, code: 'DM_ERR_DEPLOY_NOT_ALLOWED' });
  });

  describe('--to a revision or a unique prefix', () => {
    const ids = stateWith({ stableRevision: 'c0ffee0001', revisions: [rec('c0ffee0001', 300), rec('abc1230000', 200), rec('abd4560000', 100)] });
    const to = (id: string) => applyRollback(ids, id, input('c0ffee0001'));

    it.each<[string, string, Record<string, unknown>]>([
      ['a full id', 'abd4560000', { ok: true, toRevision: 'abd4560000' }],
      ['a unique prefix', 'abc', { ok: true, toRevision: 'abc1230000' }],
      ['an ambiguous prefix', 'ab', { ok: false, code: 'DM_ERR_DEPLOY_UNKNOWN_REVISION', message: "revision prefix 'ab' matches more than one revision" }],
      ['an unknown revision', 'fff', { ok: false, code: 'DM_ERR_DEPLOY_UNKNOWN_REVISION' }],
      ['the revision already serving', 'c0f', { ok: false, code: 'DM_ERR_DEPLOY_NOT_ALLOWED', message: 'revision c0ffee0001 already serves' }],
    ])('%s', (_name, id, expected) => {
      expect(to(id)).toMatchObject(expected);
    });

    it('findRevision prefers an exact id over a prefix', () => {
      const state = stateWith({ revisions: [rec('ab'), rec('abc')] });
      expect(findRevision(state, 'ab')).toMatchObject({ revision: 'ab' });
      expect(findRevision(state, 'a')).toBe('ambiguous');
      expect(findRevision(state, 'z')).toBeUndefined();
    });
  });

  it('back to the spec revision itself holds nothing back', () => {
    // A -> B was rolled back (B held back); a later rollback to B serves the spec again.
    const state = stateWith({ stableRevision: 'A', heldBackRevision: 'B', revisions: [rec('B', 20), rec('A', 10)] });
    expect(applyRollback(state, 'B', input('B'))).toMatchObject({ ok: true, toRevision: 'B', state: { heldBackRevision: undefined } });
  });

  describe('while a rollout runs, rollback is its abort', () => {
    it('without --to: the rollout is asked to abort, back to its old revision', () => {
      expect(applyRollback(withRollout('Progressing'), undefined, input('B'))).toMatchObject({ ok: true, toRevision: 'A', message: 'rolling back to A', state: { rollout: { request: 'abort' } } });
    });

    it('--to the old revision is the same abort', () => {
      expect(applyRollback(withRollout('Paused'), 'A', input('B'))).toMatchObject({ ok: true, toRevision: 'A', state: { rollout: { request: 'abort' } } });
    });

    it('--to another revision is refused until the rollout ends', () => {
      const state = { ...withRollout('Progressing'), revisions: [rec('B'), rec('A', 10), rec('Z', 1)] };
      expect(applyRollback(state, 'Z', input('B'))).toMatchObject({ ok: false, code: 'DM_ERR_DEPLOY_IN_PROGRESS' });
    });

    it('an ambiguous prefix is refused as such', () => {
      const state = { ...withRollout('Progressing'), revisions: [rec('B1'), rec('B2'), rec('A', 10)] };
      expect(applyRollback(state, 'B', input('B1'))).toMatchObject({ ok: false, code: 'DM_ERR_DEPLOY_UNKNOWN_REVISION' });
    });

    it('a Failed rollout is aborted at once', () => {
      expect(applyRollback(withRollout('Failed'), undefined, input('B'))).toMatchObject({ ok: true, toRevision: 'A', state: { rollout: { phase: 'Aborted' }, heldBackRevision: 'B' } });
    });
  });
});

describe('revision history', () => {
  const five = ['r5', 'r4', 'r3', 'r2', 'r1'].map((r) => rec(r));

  it('prunes to the limit, newest first, keeping the stable and held-back revisions', () => {
    const pruned = pruneRevisions(stateWith({ stableRevision: 'r1', heldBackRevision: 'r4', revisions: five }), 3);
    expect(pruned.revisions.map((r) => r.revision)).toEqual(['r5', 'r4', 'r1']);
  });

  it('keeps the revisions of the rollout, even above the limit', () => {
    const state = stateWith({ stableRevision: 'r1', revisions: five, rollout: rolloutOf('r2', 'r3') });
    expect(pruneRevisions(state, 2).revisions.map((r) => r.revision)).toEqual(['r3', 'r2', 'r1']);
  });

  it('leaves a history within the limit alone', () => {
    const state = stateWith({ revisions: five });
    expect(pruneRevisions(state, 5)).toBe(state);
  });

  it('recordRevision adds a new revision in front and prunes; an existing one keeps its place with the new template', () => {
    const state = stateWith({ stableRevision: 'r1', revisions: five });
    expect(recordRevision(state, 'r6', 'tpl', 1, 3).revisions.map((r) => r.revision)).toEqual(['r6', 'r5', 'r1']);
    const refreshed = recordRevision(state, 'r3', 'new-tpl', 1, 10);
    expect(refreshed.revisions.map((r) => r.revision)).toEqual(['r5', 'r4', 'r3', 'r2', 'r1']);
    expect(refreshed.revisions.find((r) => r.revision === 'r3')?.template).toBe('new-tpl');
  });

  it('servingRevision is the stable revision, else the spec one', () => {
    expect(servingRevision(stateWith(), 'B')).toBe('A');
    expect(servingRevision(emptyDeployState<string>('svc'), 'B')).toBe('B');
  });
});
