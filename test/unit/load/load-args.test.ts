import { describe, expect, it } from 'vitest';
import { parseLoadArgs, scenarioNamed, type LoadSettings } from '../../../test/load/load-args.js';

function settings(argv: string[], env: Record<string, string | undefined> = {}): LoadSettings {
  const parsed = parseLoadArgs(argv, env);
  if (parsed.kind !== 'run') throw new Error(`expected settings, got ${JSON.stringify(parsed)}`);
  return parsed.settings;
}

function error(argv: string[], env: Record<string, string | undefined> = {}): string {
  const parsed = parseLoadArgs(argv, env);
  if (parsed.kind !== 'error') throw new Error(`expected an error, got ${JSON.stringify(parsed)}`);
  return parsed.message;
}

describe('scenarioNamed', () => {
  it.each([
    ['smoke', 'smoke'],
    ['1', 'smoke'],
    ['02', 'steady'],
    ['03-spike', 'spike'],
    ['04-rollout.ts', 'rollout'],
    ['CANARY', 'canary'],
    ['5', 'canary'],
    ['02-smoke', undefined],
    ['6', undefined],
    ['0', undefined],
    ['smok', undefined],
  ])('%s -> %s', (text, name) => {
    expect(scenarioNamed(text)).toBe(name);
  });
});

describe('parseLoadArgs', () => {
  it('uses the k6 scripts\' defaults per scenario, loopback URLs and the report next to the caller', () => {
    expect(settings(['smoke'])).toMatchObject({
      scenario: 'smoke',
      proxyUrl: 'http://127.0.0.1:8080',
      adminUrl: 'http://127.0.0.1:9090',
      service: 'demo',
      path: '/hello',
      ratePerSecond: 30,
      durationMs: 30_000,
      reportPath: 'load-report-smoke.html',
      token: undefined,
    });
    expect(settings(['steady'])).toMatchObject({ ratePerSecond: 200, durationMs: 120_000 });
    expect(settings(['canary'])).toMatchObject({ ratePerSecond: 200, durationMs: 60_000, weightPercent: 20 });
    expect(settings(['spike'])).toMatchObject({ ratePerSecond: 50, spikeFactor: 4 });
  });

  it('reads the same environment variables as the k6 scripts; an empty one counts as unset', () => {
    const env = { PROXY_URL: 'http://127.0.0.1:18080/', ADMIN_URL: 'http://localhost:19090', DOCKMASTER_TOKEN: 's3cret', SERVICE: 'api', RATE: '150', DURATION: '1m30s', PROXY_PATH: 'ping', WEIGHT: '', ROLLOUT_TIMEOUT: '45s' };
    expect(settings(['canary'], env)).toMatchObject({
      proxyUrl: 'http://127.0.0.1:18080',
      adminUrl: 'http://localhost:19090',
      token: 's3cret',
      service: 'api',
      ratePerSecond: 150,
      durationMs: 90_000,
      path: '/ping',
      weightPercent: 20,
      rolloutTimeoutMs: 45_000,
    });
  });

  it('lets a flag win over its variable, in both --flag value and --flag=value form', () => {
    expect(settings(['steady', '--rate', '300', '--duration=5s', '--report', '/tmp/r.html', '--poll', '100ms'], { RATE: '10', DURATION: '1h' })).toMatchObject({
      ratePerSecond: 300,
      durationMs: 5_000,
      reportPath: '/tmp/r.html',
      pollMs: 100,
    });
  });

  it('answers --help', () => {
    expect(parseLoadArgs(['--help'], {})).toEqual({ kind: 'help' });
  });

  it.each([
    [[], {}, 'a scenario is required'],
    [['smoke', 'steady'], {}, 'one scenario at a time'],
    [['smok'], {}, "unknown scenario 'smok'"],
    [['smoke', '--rte', '5'], {}, 'unknown flag --rte'],
    [['smoke', '--rate'], {}, '--rate needs a value'],
    [['smoke', '--rate', '--duration', '5s'], {}, '--rate needs a value'],
    [['smoke', '--rate', 'abc'], {}, "--rate: 'abc' is not a number"],
    [['smoke'], { RATE: '0' }, "RATE (environment): '0' is not a number"],
    [['smoke', '--duration', '30'], {}, "--duration: '30' is not a duration"],
    [['smoke'], { DURATION: '2x' }, "DURATION (environment): '2x' is not a duration"],
    [['canary', '--weight', '100'], {}, "--weight: '100' is not a whole number from 1 to 99"],
    [['canary'], { WEIGHT: '12.5' }, "WEIGHT (environment): '12.5' is not a whole number"],
    [['smoke', '--proxy-url', 'ftp://127.0.0.1'], {}, "--proxy-url: 'ftp://127.0.0.1' is not an http(s) URL"],
    [['smoke', '--admin-url', 'nonsense'], {}, "--admin-url: 'nonsense' is not a URL"],
    [['smoke'], { PROXY_URL: 'http://192.168.1.5:8080' }, "PROXY_URL (environment): 'http://192.168.1.5:8080' is not on loopback"],
    [['smoke', '--service', 'Bad_Name'], {}, "--service: 'Bad_Name' is not a service name"],
    [['smoke', '--report', ''], {}, '--report: the path is empty'],
    [['smoke', '--rate', '1', '--rate', '2'], {}, '--rate is given twice'],
    [['spike', '--rate', '10000', '--duration', '1h'], {}, 'plans up to 144000000 requests, more than the 2000000'],
    [['smoke', '--help=yes'], {}, '--help takes no value'],
  ])('%j %j -> an error naming what is wrong: %s', (argv, env, message) => {
    expect(error(argv, env)).toContain(message);
  });

  it('sends load to other hosts only with --allow-remote', () => {
    expect(settings(['smoke', '--allow-remote'], { PROXY_URL: 'http://192.168.1.5:8080' })).toMatchObject({ proxyUrl: 'http://192.168.1.5:8080', allowRemote: true });
  });
});
