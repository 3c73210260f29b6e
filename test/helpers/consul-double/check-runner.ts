// Runs the HTTP checks of services registered in the Consul HTTP API double (only against
// loopback addresses), and reaps services whose check stayed critical longer than their
// DeregisterCriticalServiceAfter, as a Consul agent does. Test helper; I/O (HTTP to 127.0.0.1).
import http from 'node:http';
import type { CheckRecord, DoubleState } from './state.js';
import { parseGoDurationMs } from './durations.js';

/** Consul raises check intervals below one second to one second. */
const MIN_INTERVAL_MS = 1_000;
const TICK_MS = 100;
const DEFAULT_TIMEOUT_MS = 10_000;

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || hostname === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** One GET: 2xx passing, 429 warning, anything else critical (Consul's HTTP check rule). */
function probe(url: string, timeoutMs: number): Promise<{ status: 'passing' | 'warning' | 'critical'; output: string }> {
  return new Promise((resolve) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      resolve({ status: 'critical', output: `invalid URL ${url}` });
      return;
    }
    if (!isLoopback(parsed.hostname) || parsed.protocol !== 'http:') {
      resolve({ status: 'critical', output: `double: refuses to check non-loopback ${url}` });
      return;
    }
    const req = http.get(parsed, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => {
        const code = res.statusCode ?? 0;
        const status = code >= 200 && code < 300 ? 'passing' : code === 429 ? 'warning' : 'critical';
        resolve({ status, output: `HTTP GET ${url}: ${code}` });
      });
      res.on('error', () => resolve({ status: 'critical', output: `HTTP GET ${url}: response aborted` }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error) => resolve({ status: 'critical', output: `HTTP GET ${url}: ${error.message}` }));
  });
}

export class CheckRunner {
  private readonly state: DoubleState;
  private readonly runHttp: boolean;
  private readonly onReap: (node: string, serviceId: string) => void;
  private readonly timer: NodeJS.Timeout;
  private readonly nextRunAtMs = new Map<string, number>();
  private readonly inFlight = new Set<string>();

  constructor(state: DoubleState, options: { runHttpChecks: boolean; onReap: (node: string, serviceId: string) => void }) {
    this.state = state;
    this.runHttp = options.runHttpChecks;
    this.onReap = options.onReap;
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const nowMs = Date.now();
    for (const [key, check] of this.state.checks) {
      this.reapIfDue(check, nowMs);
      if (!this.runHttp || check.definition.HTTP === undefined || this.inFlight.has(key)) continue;
      const due = this.nextRunAtMs.get(key) ?? nowMs;
      if (due > nowMs) continue;
      const intervalMs = Math.max(MIN_INTERVAL_MS, parseGoDurationMs(check.definition.Interval ?? '') ?? MIN_INTERVAL_MS);
      const timeoutMs = parseGoDurationMs(check.definition.Timeout ?? '') ?? DEFAULT_TIMEOUT_MS;
      this.nextRunAtMs.set(key, nowMs + intervalMs);
      this.inFlight.add(key);
      void probe(check.definition.HTTP, Math.max(1, timeoutMs)).then((result) => {
        this.inFlight.delete(key);
        if (this.state.checks.get(key) === check) this.state.setCheck(check.node, check.checkId, result.status, result.output, Date.now());
      });
    }
    for (const key of this.nextRunAtMs.keys()) if (!this.state.checks.has(key)) this.nextRunAtMs.delete(key);
  }

  private reapIfDue(check: CheckRecord, nowMs: number): void {
    const afterMs = parseGoDurationMs(check.definition.DeregisterCriticalServiceAfter ?? '');
    if (afterMs === undefined || check.criticalSinceMs === undefined || check.serviceId === '') return;
    if (nowMs - check.criticalSinceMs >= afterMs) this.onReap(check.node, check.serviceId);
  }
}
