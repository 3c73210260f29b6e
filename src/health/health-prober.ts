// Active HTTP health checks of replicas: GET origin+path with a timeout; 2xx and 3xx pass.
// I/O (own undici agent, so checks never queue behind proxied traffic).
import { Agent, request } from 'undici';

export interface ProbeResult {
  readonly passed: boolean;
  readonly error?: string | undefined;
}

export class HealthProber {
  private readonly agent = new Agent({ keepAliveTimeout: 10_000, connections: 2 });

  async probe(origin: string, path: string, timeoutMs: number): Promise<ProbeResult> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const res = await request(`${origin}${path}`, {
        dispatcher: this.agent,
        signal: controller.signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        headers: { 'user-agent': 'dockmaster-health' },
      });
      await res.body.dump();
      const passed = res.statusCode >= 200 && res.statusCode < 400;
      return passed ? { passed } : { passed, error: `status ${res.statusCode}` };
    } catch (error) {
      return { passed: false, error: controller.signal.aborted ? `timeout after ${timeoutMs} ms` : (error as Error).message };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
