// Draws one time chart as an inline SVG string: axes with round ticks, line and step series,
// stacked bands, a legend, and events as dashed vertical lines with their labels. No scripts,
// no external fonts or styles: the SVG stands alone in the report. Pure.
import type { Band, Marker, Series } from './chart-data.js';

export interface ChartSpec {
  /** Goes into `data-chart`, so tests and styles can find the chart. */
  readonly id: string;
  readonly title: string;
  readonly yLabel: string;
  readonly durationSeconds: number;
  readonly series: readonly Series[];
  readonly bands?: readonly Band[] | undefined;
  readonly markers: readonly Marker[];
  /** A fixed top of the y axis (100 for percentages); default: from the data. */
  readonly yMax?: number | undefined;
  /** full (default): each event line carries its number and label; number: only its number (the
   * first chart of a page names them, the others refer to it). */
  readonly markerLabels?: 'full' | 'number' | undefined;
  /** Whole-number ticks only (counts such as replicas). */
  readonly integerTicks?: boolean | undefined;
  readonly widthPx?: number | undefined;
  readonly plotHeightPx?: number | undefined;
}

/** colorIndex -2: a reference line (desired); -1: errors; 0: totals; 1..: revisions, in order of
 * first appearance. */
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22'];
export function colorFor(colorIndex: number): string {
  if (colorIndex === -2) return '#8a8a8a';
  if (colorIndex < 0) return '#d62728';
  if (colorIndex === 0) return '#333333';
  return PALETTE[(colorIndex - 1) % PALETTE.length] ?? '#333333';
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/**
 * Round tick values from 0 to at least `max`, about `count` of them (steps of 1, 2 or 5 x 10^k;
 * `integer`: at least 1). Example: max 87, count 5 -> 0, 20, 40, 60, 80, 100. max 0 -> 0, 1.
 * max 2.1, integer -> 0, 1, 2, 3.
 */
export function niceTicks(max: number, count = 5, integer = false): number[] {
  if (!Number.isFinite(max) || max <= 0) return [0, 1];
  const rough = max / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const nice = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  const step = integer ? Math.max(1, Math.round(nice)) : nice;
  const ticks: number[] = [];
  for (let value = 0; value < max + step / 2 && ticks.length < 50; value += step) ticks.push(Number(value.toPrecision(12)));
  if ((ticks[ticks.length - 1] ?? 0) < max) ticks.push(Number((ticks.length * step).toPrecision(12)));
  return ticks;
}

function fmt(n: number): string {
  return (Math.round(n * 10) / 10).toString();
}

function tickLabel(value: number): string {
  if (value >= 10_000) return `${fmt(value / 1000)}k`;
  return Number.isInteger(value) ? String(value) : value.toPrecision(3).replace(/\.?0+$/, '');
}

interface Frame {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
  readonly xMax: number;
  readonly yMax: number;
}

function xPx(frame: Frame, x: number): number {
  return frame.left + (Math.min(Math.max(x, 0), frame.xMax) / frame.xMax) * frame.width;
}

function yPx(frame: Frame, y: number): number {
  return frame.top + frame.height - (Math.min(Math.max(y, 0), frame.yMax) / frame.yMax) * frame.height;
}

/** Path of a series; NaN values break the line. */
function seriesPath(frame: Frame, series: Series): string {
  const parts: string[] = [];
  let open = false;
  for (const [x, y] of series.points) {
    if (!Number.isFinite(y)) {
      open = false;
      continue;
    }
    const px = fmt(xPx(frame, x));
    const py = fmt(yPx(frame, y));
    if (!open) parts.push(`M${px} ${py}`);
    else if (series.shape === 'step') parts.push(`H${px} V${py}`);
    else parts.push(`L${px} ${py}`);
    open = true;
  }
  return parts.join(' ');
}

function bandPath(frame: Frame, band: Band): string {
  if (band.points.length === 0) return '';
  const upper = band.points.map(([x, , high]) => `${fmt(xPx(frame, x))} ${fmt(yPx(frame, high))}`);
  const lower = [...band.points].reverse().map(([x, low]) => `${fmt(xPx(frame, x))} ${fmt(yPx(frame, low))}`);
  return `M${upper.join(' L')} L${lower.join(' L')} Z`;
}

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

export function renderChart(spec: ChartSpec): string {
  const width = spec.widthPx ?? 960;
  const plotHeight = spec.plotHeightPx ?? 180;
  const bands = spec.bands ?? [];
  const dataMax = Math.max(
    0,
    ...spec.series.flatMap((s) => s.points.map(([, y]) => (Number.isFinite(y) ? y : 0))),
    ...bands.flatMap((b) => b.points.map(([, , high]) => high)),
  );
  const yTicks = niceTicks(spec.yMax ?? dataMax * 1.05, 5, spec.integerTicks === true);
  const xTicks = niceTicks(Math.max(spec.durationSeconds, 0.001), 10);
  const frame: Frame = { left: 60, top: 12, width: width - 60 - 20, height: plotHeight, xMax: Math.max(spec.durationSeconds, 0.001), yMax: yTicks[yTicks.length - 1] ?? 1 };

  const legendItems = [...bands.map((b) => ({ name: b.name, color: colorFor(b.colorIndex), dashed: false })), ...spec.series.map((s) => ({ name: s.name, color: colorFor(s.colorIndex), dashed: s.dashed === true }))];
  const legendLines: Array<Array<{ name: string; color: string; dashed: boolean; x: number }>> = [[]];
  let cursor = frame.left;
  for (const item of legendItems) {
    const itemWidth = 26 + item.name.length * 6.5 + 16;
    if (cursor + itemWidth > width && (legendLines[legendLines.length - 1]?.length ?? 0) > 0) {
      legendLines.push([]);
      cursor = frame.left;
    }
    legendLines[legendLines.length - 1]?.push({ ...item, x: cursor });
    cursor += itemWidth;
  }
  const axisBottom = frame.top + frame.height;
  const legendTop = axisBottom + 34;
  const height = legendTop + legendLines.length * 18 + 4;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" data-chart="${escapeXml(spec.id)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(spec.title)}" ${FONT} font-size="11">`);
  out.push(`<title>${escapeXml(spec.title)}</title>`);
  out.push(`<rect x="${frame.left}" y="${frame.top}" width="${frame.width}" height="${frame.height}" fill="#fbfbfb" stroke="#cccccc"/>`);
  for (const tick of yTicks) {
    const y = fmt(yPx(frame, tick));
    out.push(`<line x1="${frame.left}" x2="${frame.left + frame.width}" y1="${y}" y2="${y}" stroke="#e6e6e6"/>`);
    out.push(`<text x="${frame.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#555555">${tickLabel(tick)}</text>`);
  }
  for (const tick of xTicks.filter((t) => t <= frame.xMax + 1e-9)) {
    const x = fmt(xPx(frame, tick));
    out.push(`<line x1="${x}" x2="${x}" y1="${axisBottom}" y2="${axisBottom + 4}" stroke="#888888"/>`);
    out.push(`<text x="${x}" y="${axisBottom + 16}" text-anchor="middle" fill="#555555">${tickLabel(tick)}s</text>`);
  }
  out.push(`<text x="14" y="${fmt(frame.top + frame.height / 2)}" transform="rotate(-90 14 ${fmt(frame.top + frame.height / 2)})" text-anchor="middle" fill="#333333">${escapeXml(spec.yLabel)}</text>`);

  for (const band of bands) {
    const d = bandPath(frame, band);
    if (d !== '') out.push(`<path data-band="${escapeXml(band.name)}" d="${d}" fill="${colorFor(band.colorIndex)}" fill-opacity="0.55" stroke="none"/>`);
  }
  for (const series of spec.series) {
    const d = seriesPath(frame, series);
    if (d === '') continue;
    const dash = series.dashed === true ? ' stroke-dasharray="5 3"' : '';
    out.push(`<path data-series="${escapeXml(series.name)}" d="${d}" fill="none" stroke="${colorFor(series.colorIndex)}" stroke-width="1.8"${dash}/>`);
  }
  // Labels of markers closer than a label's height move right, one lane each, so they stay legible.
  let previousPx = Number.NEGATIVE_INFINITY;
  let lane = 0;
  spec.markers.forEach((marker, i) => {
    const px = xPx(frame, marker.xSeconds);
    lane = px - previousPx < 12 ? lane + 1 : 0;
    previousPx = px;
    const x = fmt(px);
    const labelX = fmt(px + lane * 12);
    out.push(`<g class="marker" data-marker="${escapeXml(marker.type)}">`);
    out.push(`<title>${escapeXml(`${marker.xSeconds}s ${marker.type}: ${marker.message}`)}</title>`);
    out.push(`<line x1="${x}" x2="${x}" y1="${frame.top}" y2="${axisBottom}" stroke="#7a3e9d" stroke-width="1" stroke-dasharray="3 3"/>`);
    out.push(`<text transform="translate(${labelX} ${frame.top + 3}) rotate(90)" x="0" y="-3" font-size="10" fill="#5b2c75" stroke="#ffffff" stroke-width="3" paint-order="stroke">${i + 1}${spec.markerLabels === 'number' ? '' : ` ${escapeXml(marker.label)}`}</text>`);
    out.push('</g>');
  });
  legendLines.forEach((line, row) => {
    const y = legendTop + row * 18;
    for (const item of line) {
      const dash = item.dashed ? ' stroke-dasharray="5 3"' : '';
      out.push(`<line x1="${fmt(item.x)}" x2="${fmt(item.x + 20)}" y1="${y}" y2="${y}" stroke="${item.color}" stroke-width="3"${dash}/>`);
      out.push(`<text x="${fmt(item.x + 26)}" y="${y}" dominant-baseline="middle" fill="#333333">${escapeXml(item.name)}</text>`);
    }
  });
  out.push('</svg>');
  return out.join('\n');
}
