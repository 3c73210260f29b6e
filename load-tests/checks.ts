// Checks and set-up steps the k6 scripts share. Runs inside k6 (k6/http for the readiness probe).
import http from 'k6/http';
import type { RefinedResponse, ResponseType } from 'k6/http';
import { adminHeaders, adminUrl } from './config.ts';

/**
 * The replica named in a demo answer (`{"service","revision","replica","port"}`), or undefined
 * when the body is not such an answer. A proxy that answers 200 from the wrong place (a default
 * page, an error body) fails this check while passing the status check.
 */
export function replicaOf(res: RefinedResponse<ResponseType | undefined>): string | undefined {
  if (typeof res.body !== 'string' || res.body === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || !('replica' in parsed)) return undefined;
  const replica = (parsed as { replica: unknown }).replica;
  return typeof replica === 'string' && replica !== '' ? replica : undefined;
}

/**
 * Stops the run before it starts when the gateway is not ready: a load test against a gateway
 * that is still starting measures the start, not the gateway. Call from `setup()`.
 */
export function requireReady(): void {
  const res = http.get(adminUrl('/readyz'), { headers: adminHeaders(), tags: { name: 'admin /readyz' } });
  if (res.status !== 200) {
    throw new Error(`dockmaster is not ready: GET ${adminUrl('/readyz')} answered ${res.status} (is it running? is ADMIN_URL right?)`);
  }
}
