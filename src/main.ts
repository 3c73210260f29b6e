#!/usr/bin/env node
// The dockmaster command line: `serve` runs the gateway; other commands talk to its admin API. I/O.
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { App, DEFAULT_DRAIN_TIMEOUT_MS, type HostPort } from './app.js';
import { ConfigError, DockmasterError } from './errors.js';
import { loadGatewayConfig } from './config/gateway-config.js';
import { readTokenFile } from './admin/token.js';
import { createLogger } from './observability/logger.js';
import { applyCommand, scaleCommand, statusCommand, type Output } from './cli/client-commands.js';
import { deployCommand, revisionsCommand, rollbackCommand, rolloutCommand } from './cli/deploy-commands.js';
import { hostCommand, hostsCommand } from './cli/host-commands.js';

const io: Output = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

const USAGE = `usage: dockmaster <command> [options]

commands:
  serve [--config DIR] [--listen HOST:PORT] [--admin HOST:PORT] [--token-file FILE]
        [--trusted-proxy CIDR]... [--drain-timeout-ms N] [--access-log]
        runs the gateway (defaults: --config . --listen 127.0.0.1:8080 --admin 127.0.0.1:9090)
        [--runtime process|docker]  how replicas run (default process)
        [--docker-provider]         route to containers labelled dockmaster.service=NAME
        [--consul URL]              route to services registered in Consul (e.g. http://127.0.0.1:8500)
        [--state-dir DIR]           rollout state and revision history (default CONFIG/.dockmaster/state)
  status [SERVICE]              services (with a ROLLOUT column while one runs), or one service
                                with its rollout and replicas
  apply -f FILE                 applies the Route and Service documents of a YAML file
  scale SERVICE N               sets a service's replica count
  deploy SERVICE (--image IMG | --version V) [--strategy rolling|blue-green|canary] [--supersede]
                                sets the image (docker services) and/or version of a service and
                                reports the rollout that starts; --supersede replaces a running one
  promote SERVICE               skips the remaining steps of the running rollout
  pause SERVICE                 holds the running rollout where it is
  resume SERVICE                lifts a pause (or ends a canary pause step, or promotes a
                                blue-green waiting for promote)
  abort SERVICE                 stops the running rollout and restores the previous revision
  rollback SERVICE [--to REVISION]
                                rolls back to REVISION (a unique prefix will do), by default the
                                previous one; while a rollout runs, aborts it
  revisions SERVICE             the revision history, newest first
  hosts [NAME]                  the Docker hosts of dockmaster.yaml: reachable or lost (since
                                when), cordoned or draining, cpus, memory and replicas allocated;
                                NAME shows one host with its replicas
  host cordon NAME              no new replicas on the host (running ones stay)
  host uncordon NAME            the host takes new replicas again (ends a drain)
  host drain NAME [--no-wait] [--timeout-ms N]
                                cordons the host and moves every replica off it like a rolling
                                update; waits until none is left (default up to 600000 ms)

client commands take --admin URL (default http://127.0.0.1:9090) and --json (machine-readable output)

environment:
  DOCKMASTER_TOKEN      bearer token of the admin API
  DOCKMASTER_LOG_LEVEL  pino level (default info)
`;

export function parseHostPort(value: string, flag: string): HostPort {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  if (!match || !Number.isInteger(port) || port > 65535) {
    throw new DockmasterError('DM_ERR_CLI_USAGE', `${flag}: expected HOST:PORT, got '${value}'`);
  }
  return { host: match[1] ?? (match[2] || '127.0.0.1'), port };
}

async function serve(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', default: '.' },
      listen: { type: 'string', default: '127.0.0.1:8080' },
      admin: { type: 'string', default: '127.0.0.1:9090' },
      'token-file': { type: 'string' },
      'trusted-proxy': { type: 'string', multiple: true, default: [] },
      'drain-timeout-ms': { type: 'string', default: String(DEFAULT_DRAIN_TIMEOUT_MS) },
      'access-log': { type: 'boolean', default: false },
      runtime: { type: 'string', default: 'process' },
      'docker-provider': { type: 'boolean', default: false },
      consul: { type: 'string' },
      'state-dir': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  const drainTimeoutMs = Number(values['drain-timeout-ms']);
  if (!Number.isInteger(drainTimeoutMs) || drainTimeoutMs < 0) {
    throw new DockmasterError('DM_ERR_CLI_USAGE', `--drain-timeout-ms: expected a whole number of ms, got '${values['drain-timeout-ms']}'`);
  }
  if (values.consul !== undefined && !/^https?:\/\/[^/]+$/.test(values.consul)) {
    throw new DockmasterError('DM_ERR_CLI_USAGE', `--consul: expected an address like http://127.0.0.1:8500, got '${values.consul}'`);
  }
  if (values.runtime !== 'process' && values.runtime !== 'docker') {
    throw new DockmasterError('DM_ERR_CLI_USAGE', `--runtime: expected process or docker, got '${values.runtime}'`);
  }
  const configDir = resolve(values.config);
  // Read first: hosts listed there make the Docker driver span them (a bad file stops here).
  const gateway = await loadGatewayConfig(configDir);
  // `docker` (or hosts in dockmaster.yaml) enables the Docker driver next to the process one;
  // each service names its runtime.
  const runtimes = values.runtime === 'docker' || gateway.hosts.length > 0 ? (['process', 'docker'] as const) : (['process'] as const);
  const token = values['token-file'] ? await readTokenFile(values['token-file']) : process.env['DOCKMASTER_TOKEN'] || undefined;
  const logger = createLogger();
  const app = new App({
    configDir,
    gateway,
    drivers: App.createDrivers(runtimes, logger, gateway),
    listen: parseHostPort(values.listen, '--listen'),
    admin: parseHostPort(values.admin, '--admin'),
    token,
    trustedProxies: values['trusted-proxy'],
    drainTimeoutMs,
    accessLog: values['access-log'],
    runtimes,
    providerFlags: { docker: values['docker-provider'], consulAddress: values.consul },
    stateDir: values['state-dir'] === undefined ? undefined : resolve(values['state-dir']),
    logger,
  });
  await app.start();
  return await new Promise<number>((done) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'signal received');
      app.stop().then(
        () => done(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          done(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serve(rest);
      case 'status':
        return await statusCommand(rest, io);
      case 'apply':
        return await applyCommand(rest, io);
      case 'scale':
        return await scaleCommand(rest, io);
      case 'deploy':
        return await deployCommand(rest, io);
      case 'promote':
      case 'abort':
      case 'pause':
      case 'resume':
        return await rolloutCommand(command, rest, io);
      case 'rollback':
        return await rollbackCommand(rest, io);
      case 'revisions':
        return await revisionsCommand(rest, io);
      case 'hosts':
        return await hostsCommand(rest, io);
      case 'host':
        return await hostCommand(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        process.stderr.write(`dockmaster: unknown command '${command}'\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`dockmaster: ${error.message}\n`);
      return 1;
    }
    if (error instanceof DockmasterError) {
      process.stderr.write(`dockmaster: ${error.code}: ${error.message}\n`);
      return error.code === 'DM_ERR_CLI_USAGE' ? 2 : 1;
    }
    if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`dockmaster: ${error.message}\n${USAGE}`);
      return 2;
    }
    process.stderr.write(`dockmaster: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`dockmaster: ${String(error)}\n`);
    process.exit(1);
  },
);
