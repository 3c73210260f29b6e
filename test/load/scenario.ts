// What every scenario of the runner provides (its question, rate shape, thresholds, and the steps
// it takes around and during the load), and the two that only send load: smoke and steady. The
// steps do I/O through the context; the shapes and thresholds come from load-tests/.
import { constantShape, type RateShape } from '../../load-tests/shapes.js';
import { SMOKE_THRESHOLDS, STEADY_THRESHOLDS, type ThresholdSet } from '../../load-tests/thresholds.js';
import type { AdminClient } from './admin-client.js';
import type { LoadSettings } from './load-args.js';
import type { ServiceRecord } from './load-records.js';
import type { MeasureInput } from './measure-run.js';

export interface ScenarioContext {
  readonly settings: LoadSettings;
  readonly admin: AdminClient;
  /** Short and unique per run: part of the versions a run deploys. */
  readonly runId: string;
  /** Aborted on Ctrl-C: waits end early. */
  readonly signal: AbortSignal;
  /** Adds one of the runner's own events (`load.*`) to the timeline of the report. */
  mark(type: `load.${string}`, message: string, data?: Readonly<Record<string, unknown>>): void;
  /** The admin API polls so far. */
  services(): readonly ServiceRecord[];
}

/** The scenario's own inputs to the metrics (load-tests/thresholds.ts CUSTOM_METRICS). */
export type ScenarioMeasures = Pick<MeasureInput, 'afterSpikeFromMs' | 'replicaGrowth' | 'rolloutsSucceeded' | 'canary'>;

export interface Scenario {
  readonly question: string;
  readonly shape: RateShape;
  /** The load lasts at least this long from its start, and until `drive` has ended. */
  readonly plannedMs: number;
  /** false: the load is the shape and nothing more (its requests, then stop). true: it goes on
   * at the shape's final rate until `drive` has ended and the tail has passed. */
  readonly openEnded: boolean;
  /** Load kept after `drive` ended, so the report shows the state it left. */
  readonly tailMs: number;
  readonly thresholds: ThresholdSet;
  /** Settings lines for the report beyond the common ones. */
  readonly settingsLines: ReadonlyArray<readonly [string, string]>;
  /** Whether the service is a managed one whose replicas the report can chart. */
  readonly needsService: boolean;
  /** Before the load; throwing stops the run before any request. */
  setup(ctx: ScenarioContext): Promise<void>;
  /** From the start of the load; throwing records a problem (the thresholds fail on their own). */
  drive(ctx: ScenarioContext): Promise<void>;
  /** After the load, whatever happened: puts the service back. */
  teardown(ctx: ScenarioContext): Promise<void>;
  measures(ctx: ScenarioContext): ScenarioMeasures;
}

/** Load only: a constant rate for the duration, no change to the service. */
export function loadOnlyScenario(settings: LoadSettings, kind: 'smoke' | 'steady'): Scenario {
  return {
    question: kind === 'smoke' ? 'Does the gateway answer, from a replica, quickly?' : 'Does the gateway hold a steady request rate with low latency?',
    shape: constantShape(settings.ratePerSecond, settings.durationMs),
    plannedMs: settings.durationMs,
    openEnded: false,
    tailMs: 0,
    thresholds: kind === 'smoke' ? SMOKE_THRESHOLDS : STEADY_THRESHOLDS,
    settingsLines: [],
    needsService: false,
    setup: async () => undefined,
    drive: async () => undefined,
    teardown: async () => undefined,
    measures: () => ({}),
  };
}
