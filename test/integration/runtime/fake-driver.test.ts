// The fake driver held to the RuntimeDriver contract, with served replicas (real HTTP servers on
// 127.0.0.1), so the fake that unit and scenario tests use cannot drift from the real drivers.
import { FakeRuntime } from '../../../src/runtime/fake/fake-driver.js';
import { templateRevision } from '../../../src/runtime/revision.js';
import type { ReplicaTemplate, RuntimeDriver } from '../../../src/runtime/runtime-driver.js';
import { runtimeContract } from './contract.js';

function fakeTemplate(service: string, env: Readonly<Record<string, string>> = {}): ReplicaTemplate {
  const runtime = { kind: 'process' as const, command: ['demo-app'] };
  return { service, revision: templateRevision({ runtime, env, port: 0 }), runtime, port: 0, env, stopGraceMs: 1_000 };
}

runtimeContract(
  'fake (served)',
  async () => {
    const runtime = new FakeRuntime({ serve: true });
    const drivers: RuntimeDriver[] = [];
    const open = (): RuntimeDriver => {
      const driver = runtime.driver();
      drivers.push(driver);
      return driver;
    };
    return {
      driver: open(),
      template: fakeTemplate,
      killFromOutside: (replica) => runtime.crash(replica.id, { signal: 'SIGKILL' }),
      openAnother: async () => open(),
      isGone: async (replica) => !(await runtime.driver().list()).some((r) => r.id === replica.id),
      cleanup: async () => {
        await Promise.all(drivers.map((d) => d.close()));
        await runtime.shutdown();
      },
    };
  },
  { afterClose: 'adopt' },
);
