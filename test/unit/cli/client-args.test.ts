import { describe, expect, it } from 'vitest';
import { parseDeployArgs, parseRollbackArgs, parseServiceArgs } from '../../../src/cli/client-args.js';
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

describe('parseDeployArgs', () => {
  it('reads SERVICE, --version, --strategy, --supersede, --admin and --json', () => {
    expect(parseDeployArgs(['demo', '--version', '2', '--strategy', 'canary', '--supersede', '--admin', '127.0.0.1:9999', '--json'])).toEqual({
      service: 'demo',
      image: undefined,
      version: '2',
      strategy: 'canary',
      supersede: true,
      admin: '127.0.0.1:9999',
      json: true,
    });
  });

  it('takes --image alone, or --image and --version together, with the client defaults', () => {
    expect(parseDeployArgs(['web', '--image', 'registry.local:5000/web:1.2'])).toMatchObject({
      service: 'web',
      image: 'registry.local:5000/web:1.2',
      version: undefined,
      strategy: undefined,
      supersede: false,
      admin: 'http://127.0.0.1:9090',
      json: false,
    });
    expect(parseDeployArgs(['web', '--image', 'web:1.2', '--version', '1.2'])).toMatchObject({ image: 'web:1.2', version: '1.2' });
  });

  const refusals: Array<[string, string[], RegExp]> = [
    ['no SERVICE', ['--version', '2'], /deploy needs SERVICE/],
    ['a second positional', ['demo', 'extra', '--version', '2'], /unexpected argument 'extra'/],
    ['a SERVICE that is no service name', ['Demo_1', '--version', '2'], /SERVICE 'Demo_1' is not a service name/],
    ['neither --image nor --version', ['demo'], /needs --image IMG or --version V/],
    ['an empty --version', ['demo', '--version', ''], /--version: .*empty/],
    ['an empty --image', ['demo', '--image', ' '], /--image: .*empty/],
    ['an unknown --strategy', ['demo', '--version', '2', '--strategy', 'big-bang'], /--strategy: expected rolling, blue-green, canary, got 'big-bang'/],
  ];
  it.each(refusals)('refuses %s with DM_ERR_CLI_USAGE naming it', (_name, argv, message) => {
    const error = usageError(() => parseDeployArgs(argv));
    expect(error.code).toBe('DM_ERR_CLI_USAGE');
    expect(error.message).toMatch(message);
  });

  it('leaves an unknown option to parseArgs, whose error names it', () => {
    const error = usageError(() => parseDeployArgs(['demo', '--imgae', 'x']));
    expect(error.code).toBe('ERR_PARSE_ARGS_UNKNOWN_OPTION');
    expect(error.message).toContain('--imgae');
  });
});

describe('parseServiceArgs (promote, abort, pause, resume, revisions)', () => {
  it('reads SERVICE and the client options', () => {
    expect(parseServiceArgs('promote', ['demo', '--json'])).toEqual({ service: 'demo', admin: 'http://127.0.0.1:9090', json: true });
  });

  it.each([
    ['pause', [], /pause needs SERVICE: dockmaster pause SERVICE/],
    ['abort', ['demo', 'now'], /abort: unexpected argument 'now'/],
    ['revisions', ['../etc'], /revisions: SERVICE '..\/etc' is not a service name/],
  ])('refuses `%s %j` naming the command', (command, argv, message) => {
    const error = usageError(() => parseServiceArgs(command, argv));
    expect(error.code).toBe('DM_ERR_CLI_USAGE');
    expect(error.message).toMatch(message);
  });
});

describe('parseRollbackArgs', () => {
  it('reads SERVICE and an optional --to revision or prefix', () => {
    expect(parseRollbackArgs(['demo'])).toMatchObject({ service: 'demo', to: undefined });
    expect(parseRollbackArgs(['demo', '--to', 'a1b2c3'])).toMatchObject({ service: 'demo', to: 'a1b2c3' });
  });

  it.each([['A1B2'], ['v1'], [''], ['a'.repeat(65)]])('refuses --to %j: not a hex revision', (to) => {
    const error = usageError(() => parseRollbackArgs(['demo', '--to', to]));
    expect(error.code).toBe('DM_ERR_CLI_USAGE');
    expect(error.message).toMatch(/^--to: expected a revision/);
  });
});
