// The replica environment and origin. Unit: pure.
import { describe, expect, it } from 'vitest';
import { envList, loopbackOrigin, replicaEnv } from '../../../src/runtime/replica-env.js';
import type { ReplicaTemplate } from '../../../src/runtime/runtime-driver.js';

const template: ReplicaTemplate = {
  service: 'web',
  revision: 'abc1234567',
  runtime: { kind: 'process', command: ['x'] },
  port: 8080,
  env: { LOG: 'debug', PORT: '1', DOCKMASTER_REPLICA: 'spoofed' },
  stopGraceMs: 1_000,
};

describe('replicaEnv', () => {
  it('adds PORT and the DOCKMASTER_ identity, overriding template keys of the same name', () => {
    expect(replicaEnv(template, 'r7', 31000)).toEqual({
      LOG: 'debug',
      PORT: '31000',
      DOCKMASTER_SERVICE: 'web',
      DOCKMASTER_REVISION: 'abc1234567',
      DOCKMASTER_REPLICA: 'r7',
    });
  });

  it('adds DOCKMASTER_VERSION only when the template has a version', () => {
    expect(replicaEnv({ ...template, version: '1.4.2' }, 'r7', 31000)).toEqual({
      LOG: 'debug',
      PORT: '31000',
      DOCKMASTER_SERVICE: 'web',
      DOCKMASTER_REVISION: 'abc1234567',
      DOCKMASTER_REPLICA: 'r7',
      DOCKMASTER_VERSION: '1.4.2',
    });
    expect(replicaEnv({ ...template, version: undefined }, 'r7', 31000)).not.toHaveProperty('DOCKMASTER_VERSION');
  });
});

describe('envList and loopbackOrigin', () => {
  it('formats env as sorted KEY=value and origins on 127.0.0.1', () => {
    expect(envList({ B: '2', A: 'x=y' })).toEqual(['A=x=y', 'B=2']);
    expect(loopbackOrigin(31000)).toBe('http://127.0.0.1:31000');
  });
});
