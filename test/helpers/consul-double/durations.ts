// Go duration strings as Consul parses them (`wait=30s`, `Interval: "1000ms"`), for the Consul
// HTTP API double. Test helper; pure.

const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** `1m30s` -> 90000, `250ms` -> 250, `0` -> 0; undefined for anything Go's time.ParseDuration refuses. */
export function parseGoDurationMs(text: string): number | undefined {
  if (text === '0') return 0;
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let offset = 0;
  if (text.length === 0) return undefined;
  while (offset < text.length) {
    part.lastIndex = offset;
    const m = part.exec(text);
    if (m === null) return undefined;
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    offset = part.lastIndex;
  }
  return total;
}
