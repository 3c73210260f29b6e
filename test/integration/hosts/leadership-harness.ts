// Shared set-up for the leadership integration tests: a Consul double with sub-second session
// TTLs, ConsulLeadership instances pointed at it that record every role change, and a monitor
// that samples who believes it leads. Test helper; I/O (sockets on 127.0.0.1, timers).
import { pino } from 'pino';
import { ConsulDouble } from '../../helpers/consul-double.js';
import { ConsulLeadership, type ConsulLeadershipConfig, type ConsulLeadershipDeps, type LeaderInfo, type LeadershipRoleName } from '../../../src/hosts/consul-leadership.js';

/** Silent unless DOCKMASTER_TEST_LOG is set. */
export const testLogger = pino({ level: process.env['DOCKMASTER_TEST_LOG'] ?? 'silent' });

/** Short clocks for tests: a 600 ms TTL (renew every 300 ms, step down 120 ms before it ends), no
 * lock-delay unless a test asks, lock reads that cycle every 500 ms. */
export const TEST_SETTINGS = {
  sessionTtlMs: 600,
  lockDelayMs: 0,
  watchWaitMs: 500,
  requestTimeoutMs: 1_000,
  acquireRetryMs: 50,
} as const;

export const TEST_BACKOFF = { baseMs: 20, maxMs: 200 } as const;

export function startDouble(): Promise<ConsulDouble> {
  return ConsulDouble.start({ jitter: false, sessionTtlMinMs: 100 });
}

export interface RoleEvent {
  readonly service: string;
  readonly role: LeadershipRoleName;
  readonly holder: string | undefined;
}

export interface Instance {
  readonly name: string;
  readonly info: LeaderInfo;
  readonly leadership: ConsulLeadership;
  readonly events: RoleEvent[];
  /** Roles emitted for one service, in order. */
  roles(service: string): LeadershipRoleName[];
}

export function startInstance(double: ConsulDouble, name: string, overrides: Partial<ConsulLeadershipConfig> = {}, deps: Partial<ConsulLeadershipDeps> = {}): Instance {
  const info = { instanceId: `instance-${name}`, adminAddress: `127.0.0.1:${9100 + name.charCodeAt(0)}` };
  const leadership = new ConsulLeadership({ address: double.address, instance: info, ...TEST_SETTINGS, ...overrides }, { logger: testLogger.child({ instance: name }), backoff: TEST_BACKOFF, ...deps });
  const events: RoleEvent[] = [];
  leadership.onChange((service, role, holder) => events.push({ service, role, holder: holder?.instanceId }));
  return { name, info, leadership, events, roles: (service) => events.filter((e) => e.service === service).map((e) => e.role) };
}

/**
 * Samples, every few milliseconds and at every explicit check, which instances believe they lead
 * each service (ConsulLeadership decides at the call, so this is what a driver would see). Any
 * sample with two leaders of one service is recorded.
 */
export class LeaderMonitor {
  readonly overlaps: string[] = [];
  samples = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly instances: () => readonly Instance[];
  private readonly services: readonly string[];

  constructor(instances: () => readonly Instance[], services: readonly string[]) {
    this.instances = instances;
    this.services = services;
    this.timer = setInterval(() => this.check(), 5);
  }

  /** Who leads each service right now; records an overlap. */
  check(): Map<string, string[]> {
    this.samples += 1;
    const out = new Map<string, string[]>();
    for (const service of this.services) {
      const leaders = this.instances().filter((i) => i.leadership.isLeader(service)).map((i) => i.name);
      if (leaders.length > 1) this.overlaps.push(`${service}: ${leaders.join(', ')} at sample ${this.samples}`);
      out.set(service, leaders);
    }
    return out;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
