// What `dockmaster deploy` PUTs (the shown spec with a new image, version or strategy) and what
// the gateway then did with it (a rollout started, the revision serves at once, nothing yet). Pure.
import type { ServiceView } from '../admin/admin-service.js';
import type { RolloutView } from '../deploy/service-controller.js';
import { isRunning } from '../model/rollout.js';
import type { DeployStrategy } from '../model/deploy.js';

export interface DeployChange {
  readonly image?: string | undefined;
  readonly version?: string | undefined;
  readonly strategy?: DeployStrategy | undefined;
}

export type DeploySpecResult =
  | {
      readonly ok: true;
      /** The whole service document to PUT. */
      readonly document: Record<string, unknown>;
      /** The image or version differs from the current spec's: a new revision. */
      readonly newRevision: boolean;
      /** Anything differs (a new revision, or only the strategy): worth a PUT. */
      readonly changed: boolean;
    }
  | { readonly ok: false; readonly message: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The service document PUT /v1/services/:name accepts. GET shows it as written (`document`, used
 * when present, which this leaves as it is) and as resolved (`spec`, defaults filled in, a named
 * policy copied in). The spec is accepted back field for field, except one:
 * the canary analysis threshold is written `successRate` in documents but held (and shown) as
 * `minSuccessRate` in the model (config/deploy-schema.ts toAnalysis), so it is renamed back.
 * Everything else passes through unchanged: a field this client does not know is better rejected
 * by PUT than silently dropped.
 */
export function specDocument(spec: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const document: Record<string, unknown> = { ...spec };
  const deploy = spec['deploy'];
  if (isRecord(deploy) && isRecord(deploy['canary']) && isRecord(deploy['canary']['analysis'])) {
    const { minSuccessRate, ...analysis } = deploy['canary']['analysis'];
    if (minSuccessRate !== undefined && analysis['successRate'] === undefined) analysis['successRate'] = minSuccessRate;
    document['deploy'] = { ...deploy, canary: { ...deploy['canary'], analysis } };
  }
  return document;
}

/**
 * The document of `deploy SERVICE`: `spec` (as GET shows it) with `runtime.image` (docker
 * services only), `version` and `deploy.strategy` (the rest of `deploy` kept) set as asked.
 * Refusals are usage errors: an image for a process service, a strategy for a service whose
 * `deploy` refers to a named policy (the policy is shared; change it there).
 */
export function deploySpec(service: string, spec: unknown, change: DeployChange): DeploySpecResult {
  if (!isRecord(spec) || !isRecord(spec['runtime'])) {
    return { ok: false, message: `service '${service}' is not managed by this gateway (its endpoints come from a provider): deploy needs a service it runs` };
  }
  const document = specDocument(spec);
  const runtime = spec['runtime'];
  let newRevision = false;
  let changed = false;
  if (change.image !== undefined) {
    if (runtime['type'] !== 'docker') {
      return {
        ok: false,
        message: `--image: service '${service}' runs as a ${String(runtime['type'])} (runtime.type ${String(runtime['type'])}), not a docker image; use --version to roll out a new version of it`,
      };
    }
    if (runtime['image'] !== change.image) {
      document['runtime'] = { ...runtime, image: change.image };
      newRevision = changed = true;
    }
  }
  if (change.version !== undefined && spec['version'] !== change.version) {
    document['version'] = change.version;
    newRevision = changed = true;
  }
  if (change.strategy !== undefined) {
    const deploy = document['deploy'];
    if (isRecord(deploy) && 'policy' in deploy) {
      return {
        ok: false,
        message: `--strategy: service '${service}' takes its deploy section from policy '${String(deploy['policy'])}' (deploy: {policy: ${String(deploy['policy'])}}); change the strategy in that policy, or deploy without --strategy`,
      };
    }
    const current = isRecord(deploy) ? deploy['strategy'] : undefined;
    // A service without `deploy` follows the default policy, which is rolling.
    if ((current ?? 'rolling') !== change.strategy) {
      document['deploy'] = { ...(isRecord(deploy) ? deploy : {}), strategy: change.strategy };
      changed = true;
    }
  }
  return { ok: true, document, newRevision, changed };
}

export type DeployOutcome =
  /** A new rollout to the spec's new revision; `superseded` names the running one it replaced. */
  | { readonly kind: 'started'; readonly rollout: RolloutView; readonly superseded?: string | undefined }
  /** The new revision serves without a rollout (no replicas, or the spec went back to the
   * revision that serves while a rollout ran: that rollout is then `rollout`). */
  | { readonly kind: 'serves'; readonly revision: string; readonly rollout?: RolloutView | undefined }
  /** Not settled yet: the gateway has not applied the spec, or not planned its rollout. */
  | { readonly kind: 'pending' };

/**
 * What a deploy did, judged from the service before the PUT and as GET shows it now. The PUT
 * answers once the spec is stored, and the controller applies it and starts the rollout shortly
 * after; so this is polled until it is no longer pending.
 */
export function deployOutcome(before: ServiceView, now: ServiceView): DeployOutcome {
  const revision = now.revision;
  if (revision === undefined || revision === before.revision) return { kind: 'pending' };
  const rollout = now.rollout;
  if (rollout !== undefined && rollout.id !== before.rollout?.id && rollout.toRevision === revision && rollout.kind === 'deploy') {
    const previous = before.rollout;
    const superseded = previous !== undefined && isRunning(previous.phase) ? previous.id : undefined;
    return { kind: 'started', rollout, superseded };
  }
  if (now.stableRevision === revision && (rollout === undefined || !isRunning(rollout.phase))) {
    return { kind: 'serves', revision, rollout: rollout !== undefined && rollout.id === before.rollout?.id ? rollout : undefined };
  }
  return { kind: 'pending' };
}
