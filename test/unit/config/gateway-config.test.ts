// Loading `dockmaster.yaml` (src/config/gateway-config.ts): a missing file, or one holding only
// comments, means defaults; a file must hold at most one valid kind: Gateway document, with every
// problem named. Temp files
// only, no sockets.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GATEWAY_FILE, loadGatewayConfig } from '../../../src/config/gateway-config.js';
import { ConfigError, type ConfigProblem } from '../../../src/errors.js';
import { GATEWAY_DEFAULTS } from '../../../src/model/gateway.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dockmaster-gateway-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function problemsOf(text: string): Promise<readonly ConfigProblem[]> {
  await writeFile(join(dir, GATEWAY_FILE), text);
  const error: unknown = await loadGatewayConfig(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  const problems = (error as ConfigError).problems;
  for (const problem of problems) expect(problem.file).toBe(join(dir, GATEWAY_FILE));
  return problems;
}

describe('loadGatewayConfig', () => {
  it('a folder without dockmaster.yaml gets the defaults', async () => {
    expect(await loadGatewayConfig(dir)).toEqual(GATEWAY_DEFAULTS);
  });

  it('a folder that does not exist gets the defaults too', async () => {
    expect(await loadGatewayConfig(join(dir, 'nope'))).toEqual(GATEWAY_DEFAULTS);
  });

  const noDocument: Array<{ name: string; text: string }> = [
    { name: 'only comments', text: '# dockmaster gateway settings\n# passiveHealth:\n#   consecutiveFailures: 3\n' },
    { name: 'comments and blank lines, no final newline', text: '\n# nothing set yet\n\n   # indented comment' },
    { name: 'an empty file', text: '' },
    { name: 'comments around a lone ---', text: '# before\n---\n# after\n' },
    { name: 'two empty documents of comments', text: '# one\n---\n# two\n---\n' },
  ];
  for (const c of noDocument) {
    it(`a dockmaster.yaml with ${c.name} (no document) means the defaults`, async () => {
      await writeFile(join(dir, GATEWAY_FILE), c.text);
      expect(await loadGatewayConfig(dir)).toEqual(GATEWAY_DEFAULTS);
    });
  }

  it('a commented-out setting beside a real document does not count', async () => {
    await writeFile(join(dir, GATEWAY_FILE), '# slowStartMs: 9000\nkind: Gateway\n# panicThresholdPercent: 1\n');
    expect(await loadGatewayConfig(dir)).toEqual(GATEWAY_DEFAULTS);
  });

  it('a comment-only file with a YAML syntax error after it is still an error', async () => {
    const problems = await problemsOf('# settings\n: : bad [\n');
    expect(problems[0]?.message).toMatch(/^YAML syntax error at line \d+, column \d+/);
  });

  it('reads passiveHealth settings and fills in the rest', async () => {
    await writeFile(
      join(dir, GATEWAY_FILE),
      '# gateway settings\nkind: Gateway\npassiveHealth:\n  consecutiveFailures: 3\n  baseEjectionMs: 500\n  maxEjectionPercent: 50\npanicThresholdPercent: 30\n',
    );
    const config = await loadGatewayConfig(dir);
    expect(config.passiveHealth).toEqual({ consecutiveFailures: 3, baseEjectionMs: 500, maxEjectionMs: 300_000, maxEjectionPercent: 50 });
    expect(config.panicThresholdPercent).toBe(30);
    expect(config.slowStartMs).toBe(0);
    expect(config.providers).toEqual({});
  });

  it('a leading --- before the one document is fine', async () => {
    await writeFile(join(dir, GATEWAY_FILE), '---\nkind: Gateway\nslowStartMs: 1000\n');
    expect((await loadGatewayConfig(dir)).slowStartMs).toBe(1000);
  });

  it('rejects a file holding two documents', async () => {
    const problems = await problemsOf('kind: Gateway\n---\nkind: Gateway\nslowStartMs: 5\n');
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toBe("must hold exactly one 'kind: Gateway' document, found 2");
  });

  it('rejects another kind in dockmaster.yaml, naming the kind', async () => {
    const problems = await problemsOf('kind: Route\nname: x\n');
    expect(problems[0]?.path).toBe('/kind');
    expect(problems[0]?.message).toContain('"Route"');
  });

  it('names every invalid field with its path and line', async () => {
    const problems = await problemsOf('kind: Gateway\npassiveHealth:\n  consecutiveFailures: 0\n  bogus: 1\nproviders:\n  consul:\n    address: localhost:8500\n');
    expect(problems.map((p) => p.path).sort()).toEqual(['/passiveHealth/bogus', '/passiveHealth/consecutiveFailures', '/providers/consul/address']);
    expect(problems.find((p) => p.path === '/passiveHealth/consecutiveFailures')?.message).toMatch(/\(line 3\)$/);
    expect(problems.find((p) => p.path === '/passiveHealth/bogus')?.message).toMatch(/^unknown key 'bogus' \(line 4\)$/);
    expect(problems.find((p) => p.path === '/providers/consul/address')?.message).toMatch(/\(line 7\)$/);
  });

  it('rejects maxEjectionMs below baseEjectionMs with the line of maxEjectionMs', async () => {
    const problems = await problemsOf('kind: Gateway\npassiveHealth:\n  baseEjectionMs: 2000\n  maxEjectionMs: 1000\n');
    expect(problems).toEqual([{ file: join(dir, GATEWAY_FILE), path: '/passiveHealth/maxEjectionMs', message: 'must be at least baseEjectionMs (line 4)' }]);
  });

  it('a YAML syntax error names its line', async () => {
    const problems = await problemsOf('kind: Gateway\npassiveHealth: {consecutiveFailures: 3\n');
    expect(problems[0]?.message).toMatch(/^YAML syntax error at line \d+, column \d+/);
  });

  it('a folder named dockmaster.yaml cannot be read and says so', async () => {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, GATEWAY_FILE));
    const error: unknown = await loadGatewayConfig(dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems[0]?.message).toMatch(/^cannot be read: /);
  });
});
