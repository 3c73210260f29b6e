// The CLI's deployment commands against a running gateway's admin API: deploy, promote, abort,
// pause, resume, rollback and revisions. I/O (HTTP, timers while deploy waits for its rollout).
import type { ServiceView } from '../admin/admin-service.js';
import type { RevisionView, RolloutView } from '../deploy/service-controller.js';
import { clientFor, describeError, type AdminAnswer, type AdminClient } from './admin-client.js';
import { parseDeployArgs, parseRollbackArgs, parseServiceArgs, usage, type RolloutCommand } from './client-args.js';
import type { Output } from './client-commands.js';
import { deployOutcome, deploySpec, type DeployOutcome } from './deploy-spec.js';
import { formatCommandAnswer, formatDeployOutcome, formatNoChange, formatRevisions } from './format-rollout.js';

/** How long `deploy` waits for the gateway to report the rollout it started. The PUT answers once
 * the spec is stored; the controller plans the rollout right after, so this is normally one or
 * two polls. */
const DEPLOY_REPORT_WAIT_MS = 10_000;
const DEPLOY_POLL_MS = 100;

function servicePath(service: string, suffix = ''): string {
  return `/v1/services/${encodeURIComponent(service)}${suffix}`;
}

function errorCode(answer: AdminAnswer): string | undefined {
  return (answer.body as { error?: { code?: string } } | undefined)?.error?.code;
}

async function getService(api: AdminClient, service: string): Promise<{ ok: true; view: ServiceView } | { ok: false; answer: AdminAnswer }> {
  const answer = await api.call('GET', servicePath(service));
  return answer.status === 200 ? { ok: true, view: answer.body as ServiceView } : { ok: false, answer };
}

/** Polls the service until deployOutcome settles or the wait is over. */
async function awaitOutcome(api: AdminClient, before: ServiceView, first: ServiceView): Promise<{ outcome: DeployOutcome; view: ServiceView; waitedMs: number }> {
  const startedAtMs = Date.now();
  let view = first;
  let outcome = deployOutcome(before, view);
  while (outcome.kind === 'pending' && Date.now() - startedAtMs < DEPLOY_REPORT_WAIT_MS) {
    await new Promise((resolve) => setTimeout(resolve, DEPLOY_POLL_MS));
    const now = await getService(api, before.name);
    if (!now.ok) break;
    view = now.view;
    outcome = deployOutcome(before, view);
  }
  return { outcome, view, waitedMs: Date.now() - startedAtMs };
}

/** `deploy SERVICE (--image IMG | --version V) [--strategy S] [--supersede]`: GET the spec, change
 * it, PUT it whole, and report the rollout that started. */
export async function deployCommand(argv: string[], io: Output): Promise<number> {
  const args = parseDeployArgs(argv);
  const api = clientFor(args.admin);
  const current = await getService(api, args.service);
  if (!current.ok) {
    io.err(describeError(current.answer));
    return 1;
  }
  const before = current.view;
  const built = deploySpec(args.service, before.document ?? before.spec, args);
  if (!built.ok) throw usage(built.message);
  if (!built.changed) {
    if (args.json) io.out(JSON.stringify({ service: args.service, changed: false, revision: before.revision, rollout: before.rollout }, null, 2));
    else io.out(formatNoChange(before, undefined));
    return 0;
  }
  const answer = await api.call('PUT', servicePath(args.service, args.supersede ? '?supersede=true' : ''), built.document);
  if (answer.status !== 200 && answer.status !== 201) {
    io.err(describeError(answer));
    if (errorCode(answer) === 'DM_ERR_DEPLOY_IN_PROGRESS') io.err(`to replace the running rollout, run the deploy again with --supersede`);
    return 1;
  }
  if (!built.newRevision) {
    const after = { ...before, ...(answer.body as ServiceView) };
    if (args.json) io.out(JSON.stringify({ service: args.service, changed: true, revision: after.revision, strategy: args.strategy, rollout: after.rollout }, null, 2));
    else io.out(formatNoChange(after, args.strategy));
    return 0;
  }
  const { outcome, view, waitedMs } = await awaitOutcome(api, before, answer.body as ServiceView);
  if (args.json) {
    const rollout = outcome.kind === 'pending' ? undefined : outcome.rollout;
    io.out(JSON.stringify({ service: args.service, changed: true, outcome: outcome.kind, fromRevision: before.revision, revision: view.revision, rollout }, null, 2));
  } else {
    io.out(formatDeployOutcome(args.service, outcome, waitedMs));
  }
  return 0;
}

function reportCommandAnswer(answer: AdminAnswer, service: string, json: boolean, io: Output): number {
  if (answer.status !== 200) {
    io.err(describeError(answer));
    return 1;
  }
  if (json) io.out(JSON.stringify(answer.body, null, 2));
  else io.out(formatCommandAnswer(service, answer.body as { message: string; rollout?: RolloutView }));
  return 0;
}

/** `promote|abort|pause|resume SERVICE`: one command on the service's running rollout. */
export async function rolloutCommand(command: RolloutCommand, argv: string[], io: Output): Promise<number> {
  const args = parseServiceArgs(command, argv);
  const answer = await clientFor(args.admin).call('POST', servicePath(args.service, `/rollout/${command}`));
  return reportCommandAnswer(answer, args.service, args.json, io);
}

/** `rollback SERVICE [--to REVISION]`. */
export async function rollbackCommand(argv: string[], io: Output): Promise<number> {
  const args = parseRollbackArgs(argv);
  const body = args.to === undefined ? {} : { toRevision: args.to };
  const answer = await clientFor(args.admin).call('POST', servicePath(args.service, '/rollback'), body);
  return reportCommandAnswer(answer, args.service, args.json, io);
}

/** `revisions SERVICE`: the revision history, newest first. */
export async function revisionsCommand(argv: string[], io: Output): Promise<number> {
  const args = parseServiceArgs('revisions', argv);
  const answer = await clientFor(args.admin).call('GET', servicePath(args.service, '/revisions'));
  if (answer.status !== 200) {
    io.err(describeError(answer));
    return 1;
  }
  if (args.json) io.out(JSON.stringify(answer.body, null, 2));
  else io.out(formatRevisions(args.service, (answer.body as { revisions: RevisionView[] }).revisions, Date.now()));
  return 0;
}
