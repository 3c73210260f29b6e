// Process records to ReplicaObservation, exit codes as shells report them. Unit: pure.
import { describe, expect, it } from 'vitest';
import { exitCodeOf, observeProcess, processReplicaHandle, type ProcessRecord } from '../../../src/runtime/process/observe-process.js';

const running: ProcessRecord = {
  id: processReplicaHandle('web', 'r1'),
  service: 'web',
  revision: 'abc',
  replicaId: 'r1',
  state: 'running',
  pid: 4242,
  port: 31000,
  startedAtMs: 1_000,
};

describe('exitCodeOf', () => {
  it.each([
    [0, null, 0],
    [3, null, 3],
    [null, 'SIGKILL', 137],
    [null, 'SIGTERM', 143],
    [null, 'SIGINT', 130],
    [null, null, undefined],
    [null, 'SIGNOPE', undefined],
  ] as const)('code %s, signal %s gives %s', (code, signal, expected) => {
    expect(exitCodeOf(code, signal)).toBe(expected);
  });
});

describe('observeProcess', () => {
  it('maps a running child: loopback origin from its port, pid as native id', () => {
    expect(observeProcess(running)).toEqual({
      id: 'web.r1',
      service: 'web',
      revision: 'abc',
      replicaId: 'r1',
      state: 'running',
      origin: 'http://127.0.0.1:31000',
      exitCode: undefined,
      signal: undefined,
      startedAtMs: 1_000,
      runtimeHealth: undefined,
      nativeId: '4242',
    });
  });

  it('maps a child killed by a signal to exit code 128 + n and keeps the signal', () => {
    expect(observeProcess({ ...running, state: 'exited', exit: { code: null, signal: 'SIGKILL' } })).toMatchObject({ state: 'exited', exitCode: 137, signal: 'SIGKILL' });
  });

  it('maps a record not spawned yet to no origin and an empty native id', () => {
    expect(observeProcess({ ...running, state: 'starting', pid: undefined, port: undefined })).toMatchObject({ origin: undefined, nativeId: '' });
  });
});
