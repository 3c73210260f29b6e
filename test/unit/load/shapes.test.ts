import { describe, expect, it } from 'vitest';
import {
  answerField,
  canaryDeploy,
  constantShape,
  k6Duration,
  loadVersion,
  parseDurationMs,
  restoredDocument,
  rolloutTimings,
  shapeDurationMs,
  spikeAutoscale,
  spikeShape,
  withVersionAndDeploy,
} from '../../../load-tests/shapes.js';

describe('spikeShape (the doc comment\'s example)', () => {
  it('base 50, spike 200, 20 s -> 5 s at 50, 1 s up, 7 s at 200, 1 s down, 6 s at 50; after the spike from 14 s', () => {
    expect(spikeShape(50, 200, 20_000)).toEqual({
      startRate: 50,
      afterFromMs: 14_000,
      stages: [
        { durationMs: 5_000, targetRate: 50 },
        { durationMs: 1_000, targetRate: 200 },
        { durationMs: 7_000, targetRate: 200 },
        { durationMs: 1_000, targetRate: 50 },
        { durationMs: 6_000, targetRate: 50 },
      ],
    });
  });

  it('lasts exactly the duration asked for, also when the shares do not divide it evenly', () => {
    expect(shapeDurationMs(spikeShape(10, 40, 10_003))).toBe(10_003);
    expect(shapeDurationMs(constantShape(10, 1_234))).toBe(1_234);
  });
});

describe('spikeAutoscale (the doc comment\'s example)', () => {
  it('3 replicas, base 60 req/s -> min 3, max 6, 25 req/s per replica, short windows', () => {
    expect(spikeAutoscale(3, 60)).toEqual({
      minReplicas: 3,
      maxReplicas: 6,
      targetRps: 25,
      syncIntervalMs: 500,
      stableWindowMs: 10_000,
      panic: { windowMs: 2_000, threshold: 2 },
      scaleUp: { stabilizationWindowMs: 0 },
      scaleDown: { stabilizationWindowMs: 10_000 },
    });
  });

  it('lets a single replica grow by at least two, and the base rate use 80% of the replicas it has', () => {
    const section = spikeAutoscale(1, 50);
    expect(section).toMatchObject({ minReplicas: 1, maxReplicas: 3, targetRps: 62.5 });
    // At the base rate the demand is 0.8 replicas per replica there is; at 4x it is 3.2: panic (>= 2x).
    expect(50 / (section['targetRps'] as number)).toBeCloseTo(0.8, 9);
  });
});

describe('documents the scenarios PUT', () => {
  const original = { name: 'demo', version: '1', env: { A: '1' }, deploy: { policy: 'careful' } };

  it('changes version and deploy on a copy', () => {
    const changed = withVersionAndDeploy(original, 'load-x-1', canaryDeploy(20));
    expect(changed).toEqual({ name: 'demo', version: 'load-x-1', env: { A: '1' }, deploy: { strategy: 'canary', canary: { steps: [{ setWeight: 20 }, { pause: {} }] } } });
    (changed['env'] as Record<string, string>)['A'] = 'changed';
    expect(original.env.A).toBe('1');
  });

  it('restores the document found, with the version that runs now (no third rollout)', () => {
    expect(restoredDocument(original, 'load-x-2')).toEqual({ ...original, version: 'load-x-2' });
    expect(restoredDocument({ name: 'demo' }, undefined)).toEqual({ name: 'demo' });
  });

  it('names versions per run and update', () => {
    expect(loadVersion('abc', 2)).toBe('load-abc-2');
  });
});

describe('rolloutTimings', () => {
  it('waits a tenth of the load, between 0.5 and 10 s', () => {
    expect(rolloutTimings(60_000)).toEqual({ leadMs: 6_000, gapMs: 6_000 });
    expect(rolloutTimings(2_000)).toEqual({ leadMs: 500, gapMs: 500 });
    expect(rolloutTimings(3_600_000)).toEqual({ leadMs: 10_000, gapMs: 10_000 });
  });
});

describe('parseDurationMs and k6Duration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1m30s', 90_000],
    ['1.5s', 1_500],
    ['1h', 3_600_000],
    ['30', undefined],
    ['', undefined],
    ['2x', undefined],
    ['s', undefined],
    ['1m 30s', undefined],
  ])('%s -> %s', (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  it('writes ms back as a k6 duration', () => {
    expect(k6Duration(1_500.4)).toBe('1500ms');
    expect(parseDurationMs(k6Duration(90_000))).toBe(90_000);
  });
});

describe('answerField', () => {
  it('reads the demo app\'s fields and nothing else', () => {
    const body = JSON.stringify({ service: 'demo', revision: 'abc', replica: 'demo-1', port: 1, version: '' });
    expect(answerField(body, 'revision')).toBe('abc');
    expect(answerField(body, 'replica')).toBe('demo-1');
    expect(answerField(body, 'version')).toBeUndefined();
    expect(answerField('<html>', 'revision')).toBeUndefined();
    expect(answerField('', 'revision')).toBeUndefined();
    expect(answerField('null', 'revision')).toBeUndefined();
  });
});
