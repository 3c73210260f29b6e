// Entry of `npm run load -- <scenario> [flags]` (I/O): parses the arguments, runs the scenario,
// prints the summary, writes the HTML report, and exits 0 (every threshold passed), 1 (a threshold
// failed or the run had a problem), 2 (bad arguments) or 3 (the run could not start).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { buildChartData } from './chart-data.js';
import { formatSummary } from './format-summary.js';
import { renderReport } from './html-report.js';
import { parseLoadArgs, USAGE } from './load-args.js';
import { RunError, runScenario } from './run-scenario.js';

async function main(): Promise<number> {
  const parsed = parseLoadArgs(process.argv.slice(2), process.env);
  if (parsed.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`load: ${parsed.message}\n\n${USAGE}\n`);
    return 2;
  }
  const settings = parsed.settings;
  const interrupt = new AbortController();
  const onSignal = (): void => {
    process.stderr.write('load: interrupted; stopping the load and putting the service back\n');
    interrupt.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let outcome;
  try {
    outcome = await runScenario(settings, { signal: interrupt.signal, log: (line) => process.stdout.write(`${line}\n`) });
  } catch (err) {
    if (err instanceof RunError) {
      process.stderr.write(`load: ${err.message}\n`);
      return 3;
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  const chart = buildChartData({ requests: outcome.requests, services: outcome.services, events: outcome.events, startMs: outcome.startMs, endMs: outcome.endMs });
  const html = renderReport({
    scenario: settings.scenario,
    question: outcome.question,
    startedAtIso: new Date(outcome.startMs).toISOString(),
    settings: outcome.settingsLines,
    results: outcome.results,
    stats: outcome.stats,
    chart,
    problems: outcome.problems,
    remarks: outcome.remarks,
  });
  const reportPath = resolve(settings.reportPath);
  mkdirSync(dirname(reportPath), { recursive: true });
  writeFileSync(reportPath, html);
  process.stdout.write(`${formatSummary(settings.scenario, outcome.results, outcome.stats, outcome.problems, outcome.remarks)}\nreport: ${reportPath}\n`);
  return outcome.results.every((r) => r.ok) && outcome.problems.length === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`load: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 3;
  },
);
