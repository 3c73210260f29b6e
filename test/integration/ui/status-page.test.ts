// The status page in a real browser: Debian's chromium via playwright-core against `dockmaster
// serve` (built CLI, with a token) and a canary paused at 20%; screenshots go to test-artifacts/.
// I/O: child processes, a browser, sockets on loopback.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceView } from '../../../src/admin/admin-service.js';
import type { RouteSpec } from '../../../src/model/route.js';
import { configDir, startCli, type RunningCli } from '../../helpers/cli.js';
import { eventually, waitFor } from '../../helpers/eventually.js';
import { DEMO_APP, stopGateway } from '../../helpers/rollout-gateway.js';

const CHROMIUM = '/usr/bin/chromium';
const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];
const ARTIFACTS = resolve(import.meta.dirname, '../../../test-artifacts');
const TOKEN = 'status-page-token-3f9c1e';
/** Every answer of the demo takes this long (health checks included), so that requests sent
 * through the proxy stay in flight long enough for the page's poll to see them. */
const DEMO_LATENCY_MS = 700;
const UI_WAIT_MS = 15_000;

const SERVICE_YAML = `kind: Service
name: demo
runtime:
  type: process
  command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(DEMO_APP)}]
replicas: 2
version: "1"
env: {DEMO_LATENCY_MS: "${DEMO_LATENCY_MS}"}
health: {path: /healthz, intervalMs: 2000, timeoutMs: 2000, healthyThreshold: 1, unhealthyThreshold: 3}
stopGraceMs: 2000
drainTimeoutMs: 5000
deploy: {strategy: canary, canary: {steps: [{setWeight: 20}, {pause: {}}]}}
`;
const ROUTE_YAML = 'kind: Route\nname: demo\nmatch: {pathPrefix: /}\nservice: demo\n';

let dir = '';
let cli: RunningCli | undefined;
let browser: Browser | undefined;
let uiUrl = '';
let firstRevision = '';
let newRevision = '';

function gateway(): RunningCli {
  if (cli === undefined) throw new Error('the gateway did not start');
  return cli;
}

async function api<T>(method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await request(`${gateway().adminUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.body.text();
  return { status: res.statusCode, body: (text === '' ? undefined : JSON.parse(text)) as T };
}

async function demo(): Promise<ServiceView> {
  const res = await api<ServiceView>('GET', '/v1/services/demo');
  expect(res.status).toBe(200);
  return res.body;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the status page tests need Debian's chromium (apt-get install -y chromium)`);
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  dir = configDir({ 'routes/demo.yaml': ROUTE_YAML, 'policies/demo.yaml': SERVICE_YAML });
  cli = await startCli(dir, [], { DOCKMASTER_TOKEN: TOKEN });
  if (cli.child.exitCode !== null) throw new Error(`dockmaster exited at start: ${cli.stderr()}\n${cli.stdout().slice(-2000)}`);
  uiUrl = `${cli.adminUrl}/ui`;
  const serving = await eventually(async () => {
    const view = await demo();
    expect((view.replicas ?? []).filter((r) => r.state === 'ready')).toHaveLength(2);
    expect(view.stableRevision).toBeDefined();
    return view;
  }, { timeoutMs: 30_000, intervalMs: 200 });
  firstRevision = serving.stableRevision ?? '';

  // A new version: the canary starts, takes 20% and waits at its pause step.
  const put = await api<ServiceView>('PUT', '/v1/services/demo', { ...(serving.document as Record<string, unknown>), version: '2' });
  expect(put.status, JSON.stringify(put.body)).toBe(200);
  newRevision = put.body.revision ?? '';
  await eventually(async () => {
    const r = (await demo()).rollout;
    expect({ phase: r?.phase, weights: r?.weights }).toEqual({
      phase: 'Paused',
      weights: [
        { revision: firstRevision, percent: 80 },
        { revision: newRevision, percent: 20 },
      ],
    });
  }, { timeoutMs: 30_000, intervalMs: 200 });

  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_ARGS });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (cli !== undefined) await stopGateway(cli);
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
}, 60_000);

interface Watched {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console errors and uncaught exceptions, with the URL they name. */
  readonly errors: Array<{ readonly text: string; readonly url: string }>;
  /** URLs the page requested. */
  readonly requests: string[];
}

/** A fresh browser context (empty sessionStorage) whose console, errors, CSP violations and
 * requests are recorded. */
async function openPage(): Promise<Watched> {
  if (browser === undefined) throw new Error('chromium did not start');
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // Browser code as text: the tests are type-checked without the DOM library.
  await context.addInitScript({
    content: `window.cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));`,
  });
  const page = await context.newPage();
  const errors: Array<{ text: string; url: string }> = [];
  const requests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push({ text: message.text(), url: message.location().url });
  });
  page.on('pageerror', (error) => errors.push({ text: `uncaught: ${error.message}`, url: '' }));
  page.on('request', (req) => requests.push(req.url()));
  await page.goto(uiUrl);
  return { context, page, errors, requests };
}

/** Chromium logs every failed load ("Failed to load resource: the server responded with a
 * status of 401", "…: net::ERR_CONNECTION_REFUSED"); those a test provokes (the API's 401s before
 * a token is entered, a refused command, a gateway restart) are expected. Anything else is a
 * defect. */
interface ExpectedFailure {
  readonly text: RegExp;
  readonly path: RegExp;
}

function unexpectedErrors(watched: Watched, expected: readonly ExpectedFailure[]): Array<{ text: string; url: string }> {
  return watched.errors.filter((e) => e.url === '' || !expected.some((x) => x.text.test(e.text) && x.path.test(new URL(e.url).pathname)));
}

const API_401: ExpectedFailure = { text: /^Failed to load resource: the server responded with a status of 401\b/, path: /^\/v1\// };

async function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate<string[]>('window.cspViolations');
}

async function storedToken(page: Page): Promise<string | null> {
  return page.evaluate<string | null>("sessionStorage.getItem('dockmaster.adminToken')");
}

async function enterToken(page: Page, token: string): Promise<void> {
  await page.waitForSelector('#token-panel', { state: 'visible', timeout: UI_WAIT_MS });
  await page.fill('#token-input', token);
  await page.click('#token-form button[type="submit"]');
}

async function text(page: Page, selector: string): Promise<string> {
  return ((await page.textContent(selector, { timeout: UI_WAIT_MS })) ?? '').trim();
}

async function rowTexts(page: Page, selector: string): Promise<string[]> {
  return page.$$eval(selector, (cells) => cells.map((cell) => (cell.textContent ?? '').trim()));
}

describe('the status page in chromium', () => {
  it('asks for the token on a 401, shows the API error for a wrong one, keeps the right one for the tab and forgets it', async () => {
    const watched = await openPage();
    const { page } = watched;
    try {
      await page.waitForSelector('#token-panel', { state: 'visible', timeout: UI_WAIT_MS });
      expect(await text(page, '#token-reason')).toBe('The admin API needs a token.');
      expect(await page.isHidden('#content')).toBe(true);

      await enterToken(page, 'not-the-token');
      await page.waitForSelector('#token-error', { state: 'visible', timeout: UI_WAIT_MS });
      expect(await text(page, '#token-error')).toBe('Token refused: missing or wrong bearer token (DM_ERR_ADMIN_UNAUTHORIZED)');
      expect(await text(page, '#token-reason')).toBe('The admin API refused the token.');
      expect(await page.isHidden('#content')).toBe(true);
      expect(await storedToken(page)).toBeNull();

      await enterToken(page, TOKEN);
      await page.waitForSelector('#services tr[data-service="demo"]', { timeout: UI_WAIT_MS });
      expect(await page.isHidden('#token-panel')).toBe(true);
      expect(await storedToken(page)).toBe(TOKEN);

      // Entered once: a reload in the same tab does not ask again.
      const before401s = watched.errors.length;
      await page.reload();
      await page.waitForSelector('#services tr[data-service="demo"]', { timeout: UI_WAIT_MS });
      expect(await page.isHidden('#token-panel')).toBe(true);
      expect(watched.errors.slice(before401s)).toEqual([]);

      await page.click('#forget-token');
      await page.waitForSelector('#token-panel', { state: 'visible', timeout: UI_WAIT_MS });
      expect(await text(page, '#token-reason')).toMatch(/^Token forgotten/);
      expect(await page.isHidden('#content')).toBe(true);
      expect(await page.$$('#services tbody tr')).toHaveLength(0);
      expect(await storedToken(page)).toBeNull();

      expect(unexpectedErrors(watched, [API_401])).toEqual([]);
      // The 401s did happen (the filter above is not hiding an empty list).
      expect(watched.errors.length).toBeGreaterThan(0);
      expect(await cspViolations(page)).toEqual([]);
    } finally {
      await watched.context.close();
    }
  }, 60_000);

  it('shows services, replicas, routes, the paused canary and events, follows live events, shows API errors, and aborts after a confirmation', async () => {
    const watched = await openPage();
    const { page } = watched;
    let load: { stop(): Promise<void> } | undefined;
    try {
      await enterToken(page, TOKEN);
      const tokenEnteredAt = watched.errors.length;
      await page.waitForSelector('#rollouts .rollout[data-service="demo"]', { timeout: UI_WAIT_MS });
      await eventually(async () => expect(await text(page, '#connection')).toBe('live'), { timeoutMs: UI_WAIT_MS });

      // Services: what the API says, cell by cell.
      const view = await demo();
      await eventually(async () => {
        expect(await rowTexts(page, '#services tr[data-service="demo"] td')).toEqual([
          'demo',
          `${view.readyReplicas} / ${view.desiredReplicas}`,
          firstRevision,
          newRevision,
          `${view.rollout?.id ?? ''} Paused`,
        ]);
      }, { timeoutMs: UI_WAIT_MS });

      // Replicas: revision, address, state, health and in-flight of each.
      const replicas = view.replicas ?? [];
      expect(replicas.map((r) => r.revision).sort()).toEqual([firstRevision, firstRevision, newRevision].sort());
      await eventually(async () => {
        for (const replica of replicas) {
          const endpoint = view.endpoints.find((e) => e.id === `demo/${replica.id}`);
          expect(endpoint, `endpoint of ${replica.id}`).toBeDefined();
          const cells = await rowTexts(page, `#replicas tr[data-replica="${replica.id}"] td`);
          expect(cells.slice(0, 6)).toEqual(['demo', replica.id, replica.revision, replica.address ?? '', 'ready', 'healthy']);
          expect(cells[6]).toMatch(/^\d+$/);
        }
        expect(await page.$$('#replicas tbody tr')).toHaveLength(replicas.length);
      }, { timeoutMs: UI_WAIT_MS });

      // Routes.
      const routes = (await api<{ routes: RouteSpec[] }>('GET', '/v1/routes')).body.routes;
      expect(routes.map((r) => r.name)).toEqual(['demo']);
      expect(await rowTexts(page, '#routes tr[data-route="demo"] td')).toEqual(['demo', 'path /', 'service demo']);

      // The rollout: phase, step, weights per revision.
      const card = '#rollouts .rollout[data-service="demo"]';
      expect(await text(page, `${card} .phase`)).toBe('Paused');
      expect(await text(page, `${card} .step`)).toBe(`${view.rollout?.step.index ?? ''}/${view.rollout?.step.total ?? ''}: pause until promote`);
      expect(await text(page, `${card} [data-weight-of="${firstRevision}"]`)).toBe('80%');
      expect(await text(page, `${card} [data-weight-of="${newRevision}"]`)).toBe('20%');
      expect(await rowTexts(page, `${card} button[data-command]`)).toEqual(['Promote', 'Pause', 'Resume', 'Abort']);

      // Recent events, from the stream's backlog.
      await page.waitForSelector('#events li[data-type="rollout.paused"]', { timeout: UI_WAIT_MS });
      await page.waitForSelector('#events li[data-type="rollout.started"]', { timeout: UI_WAIT_MS });

      // In flight: requests held by the slow demo show up on the next poll (no event says so).
      load = slowTraffic(gateway().proxyUrl, 6, 30_000);
      await eventually(async () => {
        const inFlight = (await rowTexts(page, '#replicas td.in-flight')).map(Number);
        expect(inFlight.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      }, { timeoutMs: UI_WAIT_MS, intervalMs: 100 });
      await load.stop();
      load = undefined;

      await page.screenshot({ path: resolve(ARTIFACTS, 'status-page.png'), fullPage: true });

      // A live event, without reloading: a pause sent through the API appears in the list, and
      // the rollout card is read again.
      const navigations = watched.requests.filter((u) => new URL(u).pathname === '/ui').length;
      const paused = await api<{ message: string }>('POST', '/v1/services/demo/rollout/pause');
      expect(paused.status).toBe(200);
      await page.waitForSelector('#events li[data-type="rollout.pause"]', { timeout: UI_WAIT_MS });
      await eventually(async () => expect(await text(page, card)).toContain('by command (resume to continue)'), { timeoutMs: UI_WAIT_MS });
      expect(watched.requests.filter((u) => new URL(u).pathname === '/ui').length).toBe(navigations);

      // An error from the API is shown with its message: pausing again is refused (409).
      await page.click(`${card} button[data-command="pause"]`);
      await page.waitForSelector('#confirm[open]', { timeout: UI_WAIT_MS });
      await page.click('#confirm-ok');
      await eventually(async () => expect(await text(page, '#notice')).toMatch(/^pause demo failed: rollout demo#\d+ is already paused \(DM_ERR_DEPLOY_NOT_ALLOWED\)$/), {
        timeoutMs: UI_WAIT_MS,
      });

      // Abort asks first; cancelling sends nothing.
      await page.click(`${card} button[data-command="abort"]`);
      await page.waitForSelector('#confirm[open]', { timeout: UI_WAIT_MS });
      expect(await text(page, '#confirm-text')).toBe(
        `Abort rollout ${view.rollout?.id ?? ''} of demo (${firstRevision} → ${newRevision})? This stops the rollout and restores the previous revision.`,
      );
      await page.click('#confirm-cancel');
      await page.waitForSelector('#confirm', { state: 'hidden', timeout: UI_WAIT_MS });
      expect((await demo()).rollout?.phase).toBe('Paused');

      // Abort, confirmed: the phase becomes Aborted on the page.
      await page.click(`${card} button[data-command="abort"]`);
      await page.waitForSelector('#confirm[open]', { timeout: UI_WAIT_MS });
      await page.click('#confirm-ok');
      await eventually(async () => expect(await text(page, `${card} .phase`)).toBe('Aborted'), { timeoutMs: 20_000, intervalMs: 100 });
      expect((await demo()).rollout?.phase).toBe('Aborted');
      expect(await text(page, '#notice')).toMatch(/^abort demo: /);
      await page.waitForSelector('#events li[data-type="rollout.aborted"]', { timeout: UI_WAIT_MS });
      // A finished rollout offers no commands.
      expect(await page.$$(`${card} button[data-command]`)).toHaveLength(0);
      await page.screenshot({ path: resolve(ARTIFACTS, 'status-page-aborted.png'), fullPage: true });

      // Nothing went wrong in the page once it had the token, and nothing left the origin.
      expect(unexpectedErrors(watched, [API_401, { text: /status of 409\b/, path: /^\/v1\/services\/demo\/rollout\/pause$/ }])).toEqual([]);
      // Once the token was in, the refused pause is the only error (the browser's own log line).
      expect(watched.errors.slice(tokenEnteredAt).map((e) => new URL(e.url).pathname)).toEqual(['/v1/services/demo/rollout/pause']);
      expect(await cspViolations(page)).toEqual([]);
      const origin = new URL(uiUrl).origin;
      expect(watched.requests.filter((u) => !u.startsWith(`${origin}/`))).toEqual([]);

      // The policy is really enforced: an inline script injected now is refused and reported.
      await page.evaluate(`(() => {
        const script = document.createElement('script');
        script.textContent = 'window.inlineScriptRan = true;';
        document.body.append(script);
      })()`);
      await waitFor(async () => (await cspViolations(page)).length > 0, 'the CSP violation report', { timeoutMs: 5_000 });
      expect(await page.evaluate<boolean | undefined>('window.inlineScriptRan')).toBeUndefined();
      expect((await cspViolations(page))[0]).toMatch(/^script-src/);
    } finally {
      await load?.stop();
      await watched.context.close();
    }
  }, 120_000);

  it('follows a restart of the gateway without a reload: reconnects, and starts the event list again', async () => {
    const watched = await openPage();
    const { page } = watched;
    try {
      await enterToken(page, TOKEN);
      await page.waitForSelector('#events li[data-type="rollout.aborted"]', { timeout: UI_WAIT_MS });
      await eventually(async () => expect(await text(page, '#connection')).toBe('live'), { timeoutMs: UI_WAIT_MS });
      const navigations = watched.requests.filter((u) => new URL(u).pathname === '/ui').length;
      const tokenEnteredAt = watched.errors.length;

      // The same admin address (the page's origin), a new process: its event seqs start again from 1.
      const before = gateway();
      await stopGateway(before);
      cli = await startCli(dir, [], { DOCKMASTER_TOKEN: TOKEN }, { adminPort: Number(new URL(before.adminUrl).port) });
      if (cli.child.exitCode !== null) throw new Error(`dockmaster exited at restart: ${cli.stderr()}\n${cli.stdout().slice(-2000)}`);

      // The page shows the new process's events, and only those (seqs from its own log).
      await eventually(async () => {
        const listed = (await api<{ events: Array<{ seq: number }> }>('GET', '/v1/events?limit=50')).body.events.map((e) => e.seq);
        const shown = (await page.$$eval('#events li', (items) => items.map((li) => Number(li.getAttribute('data-seq'))))).sort((a, b) => a - b);
        expect(shown).toEqual(listed);
        expect(await text(page, '#connection')).toBe('live');
      }, { timeoutMs: 40_000, intervalMs: 250 });
      expect(await page.$$('#events li[data-type="rollout.aborted"]')).toHaveLength(0);
      await eventually(async () => expect(await page.isHidden('#notice')).toBe(true), { timeoutMs: UI_WAIT_MS });
      await page.waitForSelector('#services tr[data-service="demo"]', { timeout: UI_WAIT_MS });
      expect(watched.requests.filter((u) => new URL(u).pathname === '/ui').length).toBe(navigations);

      // While the gateway was away, only failed loads of the API were logged: refused, reset or
      // empty connections, depending on the moment of shutdown each request met.
      const whileAway = watched.errors.slice(tokenEnteredAt);
      const apiUnreachable = { text: /^Failed to load resource: (net::ERR_[A-Z_]+|the server responded with a status of 503\b)/, path: /^\/v1\// };
      expect(unexpectedErrors({ ...watched, errors: whileAway }, [apiUnreachable])).toEqual([]);
      expect(await cspViolations(page)).toEqual([]);
    } finally {
      await watched.context.close();
    }
  }, 120_000);
});

/** Keeps `concurrency` requests going to `url` until stopped or `maxMs` passed (bounded,
 * loopback only); answers are read and dropped. */
function slowTraffic(url: string, concurrency: number, maxMs: number): { stop(): Promise<void> } {
  let stopped = false;
  const deadline = Date.now() + maxMs;
  const worker = async (): Promise<void> => {
    while (!stopped && Date.now() < deadline) {
      try {
        const res = await request(`${url}/slow`);
        await res.body.dump();
      } catch {
        // A replica leaving mid-request: the next one goes elsewhere.
      }
    }
  };
  const workers = Array.from({ length: concurrency }, () => worker());
  return {
    stop: async () => {
      stopped = true;
      await Promise.all(workers);
    },
  };
}
