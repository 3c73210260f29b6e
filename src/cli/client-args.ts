// Argument parsing of the CLI's deployment commands (deploy, promote, abort, pause, resume,
// rollback, revisions): argv in, checked arguments out, or a DM_ERR_CLI_USAGE naming the bad one.
// Pure.
import { parseArgs } from 'node:util';
import { DockmasterError } from '../errors.js';
import type { DeployStrategy } from '../model/deploy.js';

/** Options every client command takes. */
export const CLIENT_OPTIONS = {
  admin: { type: 'string', default: 'http://127.0.0.1:9090' },
  json: { type: 'boolean', default: false },
} as const;

export const DEPLOY_STRATEGIES: readonly DeployStrategy[] = ['rolling', 'blue-green', 'canary'];

/** The rollout commands that take only SERVICE; each is a POST /v1/services/:name/rollout/COMMAND. */
export const ROLLOUT_COMMANDS = ['promote', 'abort', 'pause', 'resume'] as const;
export type RolloutCommand = (typeof ROLLOUT_COMMANDS)[number];

export interface ClientArgs {
  readonly admin: string;
  readonly json: boolean;
}

export interface ServiceArgs extends ClientArgs {
  readonly service: string;
}

export interface DeployArgs extends ServiceArgs {
  readonly image?: string | undefined;
  readonly version?: string | undefined;
  readonly strategy?: DeployStrategy | undefined;
  readonly supersede: boolean;
}

export interface RollbackArgs extends ServiceArgs {
  /** A full revision or a unique prefix of one (hex). */
  readonly to?: string | undefined;
}

export function usage(message: string): DockmasterError {
  return new DockmasterError('DM_ERR_CLI_USAGE', message);
}

// The admin API's own rule for service names (config/service-schema.ts): checked here too, so a
// typo is a usage error rather than a 404 for a name that could never exist.
const SERVICE_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** What POST /rollback accepts as `toRevision`. */
const REVISION_PREFIX = /^[0-9a-f]{1,64}$/;

function serviceOf(command: string, synopsis: string, positionals: readonly string[]): string {
  const [service, extra] = positionals;
  if (service === undefined) throw usage(`${command} needs SERVICE: dockmaster ${synopsis}`);
  if (extra !== undefined) throw usage(`${command}: unexpected argument '${extra}': dockmaster ${synopsis}`);
  if (!SERVICE_NAME.test(service)) {
    throw usage(`${command}: SERVICE '${service}' is not a service name (1 to 63 lower-case letters, digits or dashes)`);
  }
  return service;
}

/** `deploy SERVICE (--image IMG | --version V) [--strategy S] [--supersede]`; both --image and
 * --version may be given (a docker service's image and its version label together). */
export function parseDeployArgs(argv: readonly string[]): DeployArgs {
  const synopsis = 'deploy SERVICE (--image IMG | --version V) [--strategy rolling|blue-green|canary] [--supersede]';
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: {
      ...CLIENT_OPTIONS,
      image: { type: 'string' },
      version: { type: 'string' },
      strategy: { type: 'string' },
      supersede: { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  const service = serviceOf('deploy', synopsis, positionals);
  if (values.image === undefined && values.version === undefined) throw usage(`deploy needs --image IMG or --version V: dockmaster ${synopsis}`);
  if (values.image !== undefined && values.image.trim() === '') throw usage('--image: expected an image reference like app:1.2, got an empty value');
  if (values.version !== undefined && values.version.trim() === '') throw usage('--version: expected a version label like 1.4.2, got an empty value');
  const strategy = values.strategy;
  if (strategy !== undefined && !(DEPLOY_STRATEGIES as readonly string[]).includes(strategy)) {
    throw usage(`--strategy: expected ${DEPLOY_STRATEGIES.join(', ')}, got '${strategy}'`);
  }
  return {
    service,
    image: values.image,
    version: values.version,
    strategy: strategy as DeployStrategy | undefined,
    supersede: values.supersede,
    admin: values.admin,
    json: values.json,
  };
}

/** `promote|abort|pause|resume SERVICE` and `revisions SERVICE`. */
export function parseServiceArgs(command: string, argv: readonly string[]): ServiceArgs {
  const { values, positionals } = parseArgs({ args: [...argv], options: CLIENT_OPTIONS, allowPositionals: true, strict: true });
  return { service: serviceOf(command, `${command} SERVICE`, positionals), admin: values.admin, json: values.json };
}

/** `rollback SERVICE [--to REVISION]`. */
export function parseRollbackArgs(argv: readonly string[]): RollbackArgs {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: { ...CLIENT_OPTIONS, to: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const service = serviceOf('rollback', 'rollback SERVICE [--to REVISION]', positionals);
  if (values.to !== undefined && !REVISION_PREFIX.test(values.to)) {
    throw usage(`--to: expected a revision (hex, or a unique prefix of one, as 'dockmaster revisions ${service}' lists), got '${values.to}'`);
  }
  return { service, to: values.to, admin: values.admin, json: values.json };
}
