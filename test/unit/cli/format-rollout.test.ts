import { describe, expect, it } from 'vitest';
import {
  formatCommandAnswer,
  formatDeployOutcome,
  formatNoChange,
  formatRevisions,
  formatRollout,
  rolloutCell,
} from '../../../src/cli/format-rollout.js';
import { formatService, formatServices } from '../../../src/cli/format-status.js';
import { formatDuration } from '../../../src/cli/text-table.js';
import { FAILED_CANARY, FINISHED_ROLLBACK, NEW, NOW_MS, OLD, PAUSED_CANARY, REVISIONS, ROLLING, serviceView } from './rollout-views.js';

describe('formatRollout (the rollout block of `status SERVICE`)', () => {
  it('shows a canary paused at its pause step: phase, step i/n, weights and replicas per revision, analysis, last condition', () => {
    expect(formatRollout(PAUSED_CANARY, NOW_MS)).toBe(
      [
        `rollout:   demo#2 deploy ${OLD} -> ${NEW} (canary)`,
        'phase:     Paused, started 12s ago',
        'step:      1/2: pause until promote',
        `weights:   ${OLD} 50%, ${NEW} 50%`,
        `replicas:  ${OLD} 2/2 ready, ${NEW} 1/1 ready`,
        'analysis:  4 intervals: 2 passed, 1 failed, 1 inconclusive; last fail 2s ago: 120 requests, 14 5xx, success 88.33%, latency 12 ms (success rate 0.8833 < 0.99)',
        'condition: Paused: pause until promote (3s ago)',
      ].join('\n'),
    );
  });

  it('says a rollout was paused by command and which request waits, and that a rolling split follows replica counts', () => {
    const text = formatRollout(ROLLING, NOW_MS);
    expect(text).toContain('phase:     Progressing (paused by command, resume requested), started 30s ago');
    expect(text).toContain('step:      1/3: 1 of 3 new replicas available');
    expect(text).toContain('weights:   by replica count');
    expect(text).toContain(`replicas:  ${OLD} 3/3 ready, ${NEW} 0/1 ready`);
  });

  it('lists replicas per revision in the order of the weights (from, to, others), whatever order the API sent', () => {
    const shuffled = { ...PAUSED_CANARY, replicas: [{ revision: '0000000000', active: 1, ready: 0 }, ...[...PAUSED_CANARY.replicas].reverse()] };
    expect(formatRollout(shuffled, NOW_MS)).toContain(`replicas:  ${OLD} 2/2 ready, ${NEW} 1/1 ready, 0000000000 0/1 ready`);
  });

  it('adds the message only when it says more than the step and the last condition', () => {
    expect(formatRollout(ROLLING, NOW_MS)).toContain('message:   waiting for replica web-f6a7b8-1 to become healthy');
    expect(formatRollout(PAUSED_CANARY, NOW_MS)).not.toContain('message:');
    expect(formatRollout(FAILED_CANARY, NOW_MS)).toContain('message:   analysis failed');
  });

  it('shows a finished rollout (the last one) with when it finished instead of when it started', () => {
    const text = formatRollout(FINISHED_ROLLBACK, NOW_MS);
    expect(text).toContain(`rollout:   demo#3 rollback ${NEW} -> ${OLD} (canary)`);
    expect(text).toContain('phase:     Succeeded, finished 10m ago');
    expect(text).toContain(`condition: Complete: ${OLD} takes all traffic (10m ago)`);
    expect(text).not.toContain('analysis:');
  });

  it('shows an analysis without a finished interval as counts only', () => {
    const fresh = { ...PAUSED_CANARY, analysis: { state: { intervals: 0, passes: 0, failures: 0, inconclusives: 0 }, intervalStartedAtMs: undefined, lastPassAtMs: undefined } };
    expect(formatRollout(fresh, NOW_MS)).toContain('analysis:  0 intervals: 0 passed, 0 failed, 0 inconclusive\n');
  });

  it('writes a success rate that could not be measured as n/a', () => {
    const last = { verdict: 'inconclusive' as const, requests: 0, errors5xx: 0, successRate: undefined, latencyMs: 0, reasons: ['0 requests < minimum 50'], atMs: NOW_MS - 1_000 };
    const quiet = { ...PAUSED_CANARY, analysis: { ...PAUSED_CANARY.analysis!, last } };
    expect(formatRollout(quiet, NOW_MS)).toContain('last inconclusive 1s ago: 0 requests, 0 5xx, success n/a, latency 0 ms (0 requests < minimum 50)');
  });
});

describe('rolloutCell (the ROLLOUT column of `status`)', () => {
  const cases: Array<[string, Parameters<typeof rolloutCell>[0], string]> = [
    ['a paused canary shows its phase and weights', PAUSED_CANARY, `Paused ${OLD} 50%, ${NEW} 50%`],
    ['a rolling rollout shows its phase and step (no weights)', ROLLING, 'Progressing 1/3'],
    ['a failed rollout frozen at its split still shows', FAILED_CANARY, `Failed ${OLD} 80%, ${NEW} 20%`],
    ['a finished rollout shows a dash', FINISHED_ROLLBACK, '-'],
    ['no rollout shows a dash', undefined, '-'],
  ];
  it.each(cases)('%s', (_name, rollout, cell) => expect(rolloutCell(rollout)).toBe(cell));
});

describe('status with rollouts', () => {
  it('adds a ROLLOUT column to the service list while some service has a running rollout', () => {
    const text = formatServices([serviceView('demo', PAUSED_CANARY), serviceView('web', ROLLING), serviceView('api', FINISHED_ROLLBACK)]);
    const [header, demo, web, api] = text.split('\n');
    expect(header).toMatch(/SOURCE +ROLLOUT$/);
    expect(demo).toMatch(new RegExp(`Paused ${OLD} 50%, ${NEW} 50%$`));
    expect(web).toMatch(/Progressing 1\/3$/);
    expect(api).toMatch(/ -$/);
  });

  it('leaves the column out when no rollout runs', () => {
    expect(formatServices([serviceView('api', FINISHED_ROLLBACK), serviceView('db', undefined)]).split('\n')[0]).toMatch(/SOURCE$/);
  });

  it('shows one service with its stable revision (when another is the spec) and its rollout block', () => {
    const text = formatService(serviceView('demo', PAUSED_CANARY), NOW_MS);
    expect(text).toContain(`revision:  ${NEW}\nstable:    ${OLD}\n`);
    expect(text).toContain(`\n\n${formatRollout(PAUSED_CANARY, NOW_MS)}`);
  });

  it('shows a replica waiting for a host, with how long and the placement reason', () => {
    const reason = 'no host fits: node-a cordoned; node-b needs 1.5 cpus (1.25 free)';
    const text = formatService({ ...serviceView('db', undefined), pending: { reason, sinceMs: NOW_MS - 7_000 } }, NOW_MS);
    expect(text).toContain(`pending:   a replica waits 7 s for a host: ${reason}`);
    expect(formatService(serviceView('db', undefined), NOW_MS)).not.toContain('pending:');
  });

  it('shows no stable line and no rollout block for a service that never rolled', () => {
    const text = formatService(serviceView('db', undefined), NOW_MS);
    expect(text).not.toContain('stable:');
    expect(text).not.toContain('rollout:');
  });
});

describe('formatRevisions', () => {
  it('lists revisions newest first with version, state flags, replicas, ages and what runs', () => {
    expect(formatRevisions('demo', REVISIONS, NOW_MS)).toBe(
      [
        'REVISION    VERSION  STATE            REPLICAS  CREATED  SERVED   RUNS',
        `${NEW}  2        spec, held back  0         2m ago   -        node demo-app.mjs`,
        `${OLD}  1        stable           2         2h ago   60s ago  node demo-app.mjs`,
        '0123456789  -        -                0         3d ago   -        node old-app.mjs',
      ].join('\n'),
    );
  });

  it('says so when there is no revision yet', () => {
    expect(formatRevisions('demo', [], NOW_MS)).toBe('service demo has no revisions yet');
  });
});

describe('one-line answers', () => {
  it('answers a rollout command with its message and where the rollout is now', () => {
    expect(formatCommandAnswer('demo', { message: 'paused', rollout: PAUSED_CANARY })).toBe(
      `service/demo: paused; rollout demo#2 ${OLD} -> ${NEW} Paused, step 1/2: pause until promote`,
    );
    expect(formatCommandAnswer('demo', { message: 'aborted', rollout: undefined })).toBe('service/demo: aborted');
  });

  it('answers a deploy with the rollout that started, and the one it superseded', () => {
    expect(formatDeployOutcome('demo', { kind: 'started', rollout: PAUSED_CANARY }, 200)).toBe(`service/demo: rollout demo#2 started: ${OLD} -> ${NEW} (canary)`);
    expect(formatDeployOutcome('demo', { kind: 'started', rollout: PAUSED_CANARY, superseded: 'demo#1' }, 200)).toBe(
      `service/demo: rollout demo#2 started: ${OLD} -> ${NEW} (canary), superseding demo#1`,
    );
  });

  it('answers a deploy that needed no rollout, or whose rollout was not reported in time', () => {
    expect(formatDeployOutcome('demo', { kind: 'serves', revision: NEW }, 0)).toBe(`service/demo: revision ${NEW} serves (no rollout needed)`);
    expect(formatDeployOutcome('demo', { kind: 'serves', revision: OLD, rollout: { ...PAUSED_CANARY, phase: 'Aborted', message: 'spec reverted' } }, 0)).toBe(
      `service/demo: revision ${OLD} serves; rollout demo#2 Aborted: spec reverted`,
    );
    expect(formatDeployOutcome('demo', { kind: 'pending' }, 10_000)).toBe('service/demo: spec applied; no rollout reported within 10s (see dockmaster status demo)');
  });

  it('answers a deploy without a new revision with "no change", the new strategy, and why the spec revision does not serve', () => {
    const settled = serviceView('demo', FINISHED_ROLLBACK, { revision: OLD, stableRevision: OLD });
    expect(formatNoChange(settled, undefined)).toBe(`service/demo: no change (revision ${OLD})`);
    expect(formatNoChange(settled, 'canary')).toBe(`service/demo: no change (revision ${OLD}); deploy strategy now canary`);
    expect(formatNoChange(serviceView('demo', PAUSED_CANARY), undefined)).toBe(`service/demo: no change (revision ${NEW}); rollout demo#2 to it is Paused`);
    const heldBack = serviceView('demo', FINISHED_ROLLBACK, { revision: NEW, stableRevision: OLD });
    expect(formatNoChange(heldBack, undefined)).toBe(
      `service/demo: no change (revision ${NEW}); note: ${OLD} serves and ${NEW} is held back (deploy another version, or rollback --to ${NEW})`,
    );
  });
});

describe('formatDuration', () => {
  const cases: Array<[number, string]> = [
    [-5_000, '0s'],
    [999, '0s'],
    [119_999, '119s'],
    [120_000, '2m'],
    [7_199_999, '119m'],
    [7_200_000, '2h'],
    [172_800_000, '2d'],
  ];
  it.each(cases)('%i ms reads %s', (ms, text) => expect(formatDuration(ms)).toBe(text));
});
