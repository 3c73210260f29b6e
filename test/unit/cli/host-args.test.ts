// Arguments of `dockmaster hosts [NAME]` and `dockmaster host cordon|uncordon|drain NAME`: what is
// read, and the usage error (DM_ERR_CLI_USAGE, or node's parseArgs error) for each mistake. Pure.
import { describe, expect, it } from 'vitest';
import { DEFAULT_DRAIN_WAIT_MS, parseHostCommandArgs, parseHostsArgs } from '../../../src/cli/host-args.js';
import { DockmasterError } from '../../../src/errors.js';

/** The usage error `fn` throws (failing the test when it throws none or another). */
function usageError(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    if (error instanceof DockmasterError) return { code: error.code, message: error.message };
    if (error instanceof TypeError && 'code' in error) return { code: String(error.code), message: error.message };
    throw error;
  }
  throw new Error('expected a usage error');
}

describe('parseHostsArgs', () => {
  it('no NAME lists every host, with the client defaults', () => {
    expect(parseHostsArgs([])).toEqual({ name: undefined, admin: 'http://127.0.0.1:9090', json: false });
  });

  it('reads NAME, --admin and --json', () => {
    expect(parseHostsArgs(['node-a', '--admin', '127.0.0.1:9999', '--json'])).toEqual({ name: 'node-a', admin: '127.0.0.1:9999', json: true });
  });

  it('refuses a second NAME', () => {
    expect(usageError(() => parseHostsArgs(['a', 'b']))).toEqual({ code: 'DM_ERR_CLI_USAGE', message: "hosts: unexpected argument 'b': dockmaster hosts [NAME]" });
  });

  it('refuses a NAME that no host can have', () => {
    expect(usageError(() => parseHostsArgs(['Node_A']))).toEqual({
      code: 'DM_ERR_CLI_USAGE',
      message: "hosts: NAME 'Node_A' is not a host name (1 to 63 lower-case letters, digits or dashes)",
    });
  });

  it('refuses an unknown option', () => {
    expect(usageError(() => parseHostsArgs(['--all'])).code).toBe('ERR_PARSE_ARGS_UNKNOWN_OPTION');
  });
});

describe('parseHostCommandArgs', () => {
  for (const command of ['cordon', 'uncordon'] as const) {
    it(`reads ${command} NAME`, () => {
      expect(parseHostCommandArgs([command, 'node-a'])).toEqual({
        command,
        name: 'node-a',
        wait: true,
        timeoutMs: DEFAULT_DRAIN_WAIT_MS,
        admin: 'http://127.0.0.1:9090',
        json: false,
      });
    });
  }

  it('drain waits by default, up to ten minutes', () => {
    expect(parseHostCommandArgs(['drain', 'node-a'])).toMatchObject({ command: 'drain', wait: true, timeoutMs: 600_000 });
  });

  it('drain reads --no-wait, --timeout-ms, --admin and --json in any order', () => {
    expect(parseHostCommandArgs(['drain', '--timeout-ms', '2500', 'node-b', '--no-wait', '--json', '--admin', 'http://127.0.0.1:1'])).toEqual({
      command: 'drain',
      name: 'node-b',
      wait: false,
      timeoutMs: 2_500,
      admin: 'http://127.0.0.1:1',
      json: true,
    });
  });

  const mistakes: Array<{ name: string; argv: string[]; message: string }> = [
    { name: 'no command', argv: [], message: 'host needs a command: dockmaster host cordon|uncordon|drain NAME [--no-wait] [--timeout-ms N]' },
    { name: 'an unknown command', argv: ['evict', 'node-a'], message: "host: unknown command 'evict' (expected cordon, uncordon, drain): dockmaster host cordon|uncordon|drain NAME [--no-wait] [--timeout-ms N]" },
    { name: 'no NAME', argv: ['cordon'], message: 'host cordon needs NAME: dockmaster host cordon NAME' },
    { name: 'a second NAME', argv: ['drain', 'a', 'b'], message: "host drain: unexpected argument 'b': dockmaster host drain NAME" },
    { name: 'a bad NAME', argv: ['uncordon', 'x-'], message: "host uncordon: NAME 'x-' is not a host name (1 to 63 lower-case letters, digits or dashes)" },
    { name: '--no-wait on cordon', argv: ['cordon', 'a', '--no-wait'], message: 'host cordon: --no-wait and --timeout-ms apply to drain only' },
    { name: '--timeout-ms on uncordon', argv: ['uncordon', 'a', '--timeout-ms', '5'], message: 'host uncordon: --no-wait and --timeout-ms apply to drain only' },
    { name: 'a timeout of 0', argv: ['drain', 'a', '--timeout-ms', '0'], message: "--timeout-ms: expected a whole number of ms from 1 to 86400000, got '0'" },
    { name: 'a timeout in seconds', argv: ['drain', 'a', '--timeout-ms', '30s'], message: "--timeout-ms: expected a whole number of ms from 1 to 86400000, got '30s'" },
    { name: 'a timeout over a day', argv: ['drain', 'a', '--timeout-ms', '86400001'], message: "--timeout-ms: expected a whole number of ms from 1 to 86400000, got '86400001'" },
  ];
  for (const m of mistakes) {
    it(`refuses ${m.name}`, () => {
      expect(usageError(() => parseHostCommandArgs(m.argv))).toEqual({ code: 'DM_ERR_CLI_USAGE', message: m.message });
    });
  }

  it('refuses an unknown option through parseArgs', () => {
    expect(usageError(() => parseHostCommandArgs(['drain', 'a', '--force'])).code).toBe('ERR_PARSE_ARGS_UNKNOWN_OPTION');
  });
});
