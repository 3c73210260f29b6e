// Argument parsing of the CLI's host commands (`hosts [NAME]`, `host cordon|uncordon|drain NAME`):
// argv in, checked arguments out, or a DM_ERR_CLI_USAGE naming the bad one. Pure.
import { parseArgs } from 'node:util';
import type { HostCommand } from '../admin/admin-service.js';
import { CLIENT_OPTIONS, usage, type ClientArgs } from './client-args.js';

export const HOST_COMMANDS: readonly HostCommand[] = ['cordon', 'uncordon', 'drain'];

/** How long `host drain` waits by default for the host to hold no replica. */
export const DEFAULT_DRAIN_WAIT_MS = 600_000;
/** The longest wait `--timeout-ms` accepts: a day. */
const MAX_DRAIN_WAIT_MS = 86_400_000;

export const HOST_SYNOPSIS = 'host cordon|uncordon|drain NAME [--no-wait] [--timeout-ms N]';

// The rule of host names in dockmaster.yaml (config/hosts-schema.ts): checked here too, so a typo
// is a usage error rather than a 404 for a name that could never exist.
const HOST_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export interface HostsArgs extends ClientArgs {
  /** One host in detail; all of them in a table when undefined. */
  readonly name?: string | undefined;
}

export interface HostCommandArgs extends ClientArgs {
  readonly command: HostCommand;
  readonly name: string;
  /** drain only: wait until the host holds no replica (default), or answer once it started. */
  readonly wait: boolean;
  readonly timeoutMs: number;
}

function checkName(command: string, name: string): string {
  if (!HOST_NAME.test(name)) throw usage(`${command}: NAME '${name}' is not a host name (1 to 63 lower-case letters, digits or dashes)`);
  return name;
}

/** `hosts [NAME]`. */
export function parseHostsArgs(argv: readonly string[]): HostsArgs {
  const { values, positionals } = parseArgs({ args: [...argv], options: CLIENT_OPTIONS, allowPositionals: true, strict: true });
  const [name, extra] = positionals;
  if (extra !== undefined) throw usage(`hosts: unexpected argument '${extra}': dockmaster hosts [NAME]`);
  return { name: name === undefined ? undefined : checkName('hosts', name), admin: values.admin, json: values.json };
}

/** `host cordon|uncordon|drain NAME [--no-wait] [--timeout-ms N]` (argv after `host`). */
export function parseHostCommandArgs(argv: readonly string[]): HostCommandArgs {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: { ...CLIENT_OPTIONS, 'no-wait': { type: 'boolean', default: false }, 'timeout-ms': { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const [command, name, extra] = positionals;
  if (command === undefined) throw usage(`host needs a command: dockmaster ${HOST_SYNOPSIS}`);
  if (!(HOST_COMMANDS as readonly string[]).includes(command)) {
    throw usage(`host: unknown command '${command}' (expected ${HOST_COMMANDS.join(', ')}): dockmaster ${HOST_SYNOPSIS}`);
  }
  const hostCommand = command as HostCommand;
  if (name === undefined) throw usage(`host ${command} needs NAME: dockmaster host ${command} NAME`);
  if (extra !== undefined) throw usage(`host ${command}: unexpected argument '${extra}': dockmaster host ${command} NAME`);
  if (hostCommand !== 'drain' && (values['no-wait'] || values['timeout-ms'] !== undefined)) {
    throw usage(`host ${command}: --no-wait and --timeout-ms apply to drain only`);
  }
  let timeoutMs = DEFAULT_DRAIN_WAIT_MS;
  const rawTimeout = values['timeout-ms'];
  if (rawTimeout !== undefined) {
    timeoutMs = Number(rawTimeout);
    if (!/^\d+$/.test(rawTimeout) || timeoutMs < 1 || timeoutMs > MAX_DRAIN_WAIT_MS) {
      throw usage(`--timeout-ms: expected a whole number of ms from 1 to ${MAX_DRAIN_WAIT_MS}, got '${rawTimeout}'`);
    }
  }
  return {
    command: hostCommand,
    name: checkName(`host ${command}`, name),
    wait: !values['no-wait'],
    timeoutMs,
    admin: values.admin,
    json: values.json,
  };
}
