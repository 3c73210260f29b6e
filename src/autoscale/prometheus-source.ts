// A Prometheus metric source for the autoscaler: runs the policy's PromQL queries (in parallel)
// against the HTTP API and turns the answers into one MetricWindow. I/O (undici); the parsing
// is the pure prometheus-response.ts.
import { Agent, request } from 'undici';
import type { Logger } from '../observability/logger.js';
import type { MetricWindow, PrometheusSourceConfig } from '../model/autoscale.js';
import { parseQueryResponse, toMetricWindow, type EmptyMeaning, type QueryValue, type SourceValues } from './prometheus-response.js';

export interface PrometheusSourceOptions extends PrometheusSourceConfig {
  /** The window the values stand for (the policy's stableWindowMs): `requests` = rps x windowMs. */
  readonly windowMs: number;
}

export type SourceRead = { readonly ok: true; readonly window: MetricWindow } | { readonly ok: false; readonly error: string };

/** What the autoscaler reads from a source (a test passes a fake). */
export interface MetricSource {
  read(): Promise<SourceRead>;
  close(): void;
}

const METRICS: ReadonlyArray<{ readonly name: keyof SourceValues; readonly empty: EmptyMeaning }> = [
  { name: 'rps', empty: 'zero' },
  { name: 'p95Ms', empty: 'unknown' },
  { name: 'concurrency', empty: 'zero' },
];

export class PrometheusSource implements MetricSource {
  private readonly options: PrometheusSourceOptions;
  private readonly logger: Logger;
  private readonly agent: Agent;
  private readonly baseUrl: string;

  constructor(options: PrometheusSourceOptions, logger: Logger) {
    this.options = options;
    this.logger = logger;
    this.baseUrl = options.address.replace(/\/+$/, '');
    this.agent = new Agent({ connectTimeout: options.timeoutMs, headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs });
  }

  /** Every configured query; the first failure (by metric order) fails the read: never a partial window. */
  async read(): Promise<SourceRead> {
    const wanted = METRICS.filter(({ name }) => this.options.queries[name] !== undefined);
    const answers = await Promise.all(wanted.map(async ({ name, empty }) => ({ name, answer: await this.query(this.options.queries[name] as string, empty) })));
    const values: { -readonly [K in keyof SourceValues]: SourceValues[K] } = {};
    for (const { name, answer } of answers) {
      if (!answer.ok) return { ok: false, error: `prometheus ${this.baseUrl} query '${name}': ${answer.error}` };
      values[name] = answer.value;
    }
    this.logger.debug({ source: 'prometheus', ...values }, 'autoscale source read');
    return { ok: true, window: toMetricWindow(values, this.options.windowMs) };
  }

  close(): void {
    this.agent.close().catch(() => undefined);
  }

  private async query(promql: string, empty: EmptyMeaning): Promise<QueryValue> {
    const url = `${this.baseUrl}/api/v1/query?query=${encodeURIComponent(promql)}`;
    try {
      const res = await request(url, {
        method: 'GET',
        dispatcher: this.agent,
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      const text = await res.body.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return { ok: false, error: `HTTP ${res.statusCode}: the answer is not JSON: ${text.slice(0, 200)}` };
      }
      return parseQueryResponse(res.statusCode, body, empty);
    } catch (error) {
      return { ok: false, error: describeError(error, this.options.timeoutMs) };
    }
  }
}

function describeError(error: unknown, timeoutMs: number): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  if (error.name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return `no answer within timeoutMs (${timeoutMs} ms)`;
  }
  const cause = (error as { cause?: unknown }).cause;
  const causeCode = cause instanceof Error ? (cause as { code?: unknown }).code : undefined;
  const detail = typeof causeCode === 'string' ? causeCode : typeof code === 'string' ? code : '';
  return `request failed: ${error.message}${detail === '' ? '' : ` (${detail})`}`;
}
