// A small client of the admin API for the CLI's commands. I/O (HTTP).
import { request } from 'undici';
import { DockmasterError } from '../errors.js';

export interface AdminClientOptions {
  /** `http://127.0.0.1:9090` */
  readonly baseUrl: string;
  readonly token?: string | undefined;
}

export interface AdminAnswer {
  readonly status: number;
  readonly body: unknown;
}

export class AdminClient {
  private readonly options: AdminClientOptions;

  constructor(options: AdminClientOptions) {
    this.options = options;
  }

  async call(method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<AdminAnswer> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.token) headers['authorization'] = `Bearer ${this.options.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res;
    try {
      res = await request(new URL(path, this.options.baseUrl), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
      });
    } catch (error) {
      throw new DockmasterError('DM_ERR_RUNTIME_UNAVAILABLE', `cannot reach the admin API at ${this.options.baseUrl}: ${(error as Error).message}`);
    }
    const text = await res.body.text();
    let parsed: unknown = text;
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    return { status: res.statusCode, body: parsed };
  }
}

/** A client of the admin API at `admin` (`http://` added when it names no scheme), with the
 * bearer token from DOCKMASTER_TOKEN. */
export function clientFor(admin: string): AdminClient {
  const baseUrl = /^https?:\/\//.test(admin) ? admin : `http://${admin}`;
  return new AdminClient({ baseUrl, token: process.env['DOCKMASTER_TOKEN'] || undefined });
}

/** The `error` of an admin answer as one readable block (code, message, problems). */
export function describeError(answer: AdminAnswer): string {
  const error = (answer.body as { error?: { code?: string; message?: string; problems?: Array<{ file: string; path: string; message: string }> } })?.error;
  if (error === undefined) return `HTTP ${answer.status}: ${typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body)}`;
  const lines = [`${error.code ?? `HTTP ${answer.status}`}: ${error.message ?? ''}`];
  for (const p of error.problems ?? []) lines.push(`  ${p.file}: ${p.path || '/'}: ${p.message}`);
  return lines.join('\n');
}
