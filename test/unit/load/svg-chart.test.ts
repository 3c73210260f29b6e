import { describe, expect, it } from 'vitest';
import { colorFor, escapeXml, niceTicks, renderChart } from '../../../test/load/svg-chart.js';

describe('niceTicks', () => {
  it.each([
    [87, false, [0, 20, 40, 60, 80, 100]],
    [100, false, [0, 20, 40, 60, 80, 100]],
    [0.042, false, [0, 0.01, 0.02, 0.03, 0.04, 0.05]],
    [2.1, true, [0, 1, 2, 3]],
    [0, false, [0, 1]],
    [Number.NaN, false, [0, 1]],
  ])('max %d (integer %s) -> %j', (max, integer, ticks) => {
    expect(niceTicks(max, 5, integer)).toEqual(ticks);
  });
});

describe('escapeXml', () => {
  it('escapes markup in labels and names', () => {
    expect(escapeXml(`<b a="1">'&'</b>`)).toBe('&lt;b a=&quot;1&quot;&gt;&#39;&amp;&#39;&lt;/b&gt;');
  });
});

describe('renderChart', () => {
  const svg = renderChart({
    id: 'latency',
    title: 'p95 latency',
    yLabel: 'ms',
    durationSeconds: 10,
    series: [
      { name: 'p95 <latency>', colorIndex: 0, shape: 'line', points: [[0, 5], [1, Number.NaN], [2, 10], [3, 20]] },
      { name: 'desired', colorIndex: -2, shape: 'step', dashed: true, points: [[0, 1], [5, 2]] },
    ],
    bands: [{ name: 'r1', colorIndex: 1, points: [[0, 0, 50], [10, 0, 50]] }],
    markers: [
      { xSeconds: 5, label: 'demo#1 rolling start', type: 'rollout.started', message: 'demo#1 a -> b' },
      { xSeconds: 5, label: 'PUT rolling', type: 'load.put', message: 'PUT rolling: ...' },
    ],
  });

  it('is one standalone SVG named by data-chart, with a title for screen readers', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" data-chart="latency"')).toBe(true);
    expect(svg.endsWith('</svg>')).toBe(true);
    expect(svg).toContain('<title>p95 latency</title>');
    expect(svg).not.toMatch(/<script|href=|url\(/);
  });

  it('draws each series as a path, breaking the line at missing values, and escapes its name', () => {
    const path = /<path data-series="p95 &lt;latency&gt;" d="([^"]+)"/.exec(svg)?.[1] ?? '';
    // Two pieces: the point before the gap, then a line through the two after it.
    expect(path.match(/M/g)).toHaveLength(2);
    expect(path.match(/L/g)).toHaveLength(1);
    const step = /<path data-series="desired" d="([^"]+)"[^>]*stroke-dasharray/.exec(svg)?.[1] ?? '';
    expect(step).toMatch(/^M\S+ \S+ H\S+ V\S+$/);
  });

  it('fills bands with their revision color', () => {
    expect(svg).toContain(`data-band="r1"`);
    expect(svg).toContain(`fill="${colorFor(1)}"`);
  });

  it('draws each event as a dashed vertical line with its number and label, moving close labels apart', () => {
    const markers = svg.match(/<g class="marker" data-marker="[^"]+">[\s\S]*?<\/g>/g) ?? [];
    expect(markers).toHaveLength(2);
    expect(markers[0]).toContain('>1 demo#1 rolling start</text>');
    expect(markers[1]).toContain('>2 PUT rolling</text>');
    const labelX = markers.map((m) => Number(/translate\(([\d.]+) /.exec(m)?.[1]));
    expect((labelX[1] ?? 0) - (labelX[0] ?? 0)).toBe(12);
  });

  it('can leave the labels to another chart and show only the numbers', () => {
    const numbersOnly = renderChart({ id: 'x', title: 't', yLabel: 'y', durationSeconds: 1, series: [], markers: [{ xSeconds: 0.5, label: 'long label', type: 'load.put', message: 'm' }], markerLabels: 'number' });
    expect(numbersOnly).toContain('>1</text>');
    expect(numbersOnly).not.toContain('long label</text>');
  });

  it('gives errors red and revisions distinct colors', () => {
    expect(colorFor(-1)).toBe('#d62728');
    expect(new Set([1, 2, 3, 4].map(colorFor)).size).toBe(4);
  });
});
