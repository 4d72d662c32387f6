import { bucketLowerBoundMs, HISTOGRAM_BUCKETS_PER_DECADE, type LatencyHistogram } from './latency-recorder.js';

export interface LatencyPanel {
  title: string;
  histogram: LatencyHistogram;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

const WIDTH = 760;
const PANEL_HEIGHT = 170;
const LEFT = 56;
const RIGHT = 16;
const TOP = 34;
const BOTTOM = 30;

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function formatMs(ms: number): string {
  if (ms >= 1000) return `${ms / 1000} s`;
  if (ms >= 1) return `${ms} ms`;
  return `${Math.round(ms * 1000)} µs`;
}

/**
 * Latency histograms as one SVG, a panel per measurement: log-scaled milliseconds across, the share
 * of messages per bucket up, with p50 and p99 marked. Plain SVG text, no dependencies.
 */
export function renderLatencySvg(panels: readonly LatencyPanel[]): string {
  const height = Math.max(1, panels.length) * PANEL_HEIGHT + 10;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
  ];
  if (panels.length === 0) parts.push(`<text x="${LEFT}" y="${TOP}">no latency measured</text>`);
  panels.forEach((panel, i) => parts.push(renderPanel(panel, i * PANEL_HEIGHT)));
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function renderPanel(panel: LatencyPanel, y0: number): string {
  const counts = panel.histogram.counts;
  const used = counts.flatMap((count, index) => (count > 0 ? [index] : []));
  const total = counts.reduce((a, b) => a + b, 0);
  // Whole decades around the buckets in use, at least two.
  const firstDecade = Math.floor((used[0] ?? 0) / HISTOGRAM_BUCKETS_PER_DECADE);
  let lastDecade = Math.ceil(((used[used.length - 1] ?? 0) + 1) / HISTOGRAM_BUCKETS_PER_DECADE);
  if (lastDecade - firstDecade < 2) lastDecade = firstDecade + 2;
  const firstBucket = firstDecade * HISTOGRAM_BUCKETS_PER_DECADE;
  const bucketCount = (lastDecade - firstDecade) * HISTOGRAM_BUCKETS_PER_DECADE;
  const plotWidth = WIDTH - LEFT - RIGHT;
  const plotHeight = PANEL_HEIGHT - TOP - BOTTOM;
  const barWidth = plotWidth / bucketCount;
  const maxShare = Math.max(...counts.map((c) => c / Math.max(1, total)), 1e-9);
  const xOfMs = (ms: number): number => {
    const position = Math.log10(ms / bucketLowerBoundMs(firstBucket)) * HISTOGRAM_BUCKETS_PER_DECADE;
    return LEFT + Math.min(bucketCount, Math.max(0, position)) * barWidth;
  };
  const base = y0 + TOP + plotHeight;
  const out: string[] = [`<g>`];
  out.push(
    `<text x="${LEFT}" y="${y0 + 16}" font-weight="bold">${escapeXml(panel.title)}</text>`,
    `<text x="${LEFT}" y="${y0 + 29}" fill="#444">${total} messages · p50 ${panel.p50Ms.toFixed(2)} ms · p99 ${panel.p99Ms.toFixed(2)} ms · max ${panel.maxMs.toFixed(2)} ms</text>`,
    `<line x1="${LEFT}" y1="${base}" x2="${LEFT + plotWidth}" y2="${base}" stroke="#888"/>`,
    `<line x1="${LEFT}" y1="${y0 + TOP}" x2="${LEFT}" y2="${base}" stroke="#888"/>`,
    `<text x="${LEFT - 6}" y="${y0 + TOP + 8}" text-anchor="end" fill="#444">${(maxShare * 100).toFixed(1)}%</text>`,
    `<text x="${LEFT - 6}" y="${base}" text-anchor="end" fill="#444">0</text>`,
  );
  for (let i = 0; i < bucketCount; i++) {
    const count = counts[firstBucket + i] ?? 0;
    if (count === 0) continue;
    const h = (count / Math.max(1, total) / maxShare) * plotHeight;
    out.push(`<rect x="${(LEFT + i * barWidth).toFixed(1)}" y="${(base - h).toFixed(1)}" width="${Math.max(1, barWidth - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="#4a78b5"/>`);
  }
  for (let decade = firstDecade; decade <= lastDecade; decade++) {
    const ms = bucketLowerBoundMs(decade * HISTOGRAM_BUCKETS_PER_DECADE);
    const x = xOfMs(ms);
    out.push(
      `<line x1="${x.toFixed(1)}" y1="${base}" x2="${x.toFixed(1)}" y2="${base + 4}" stroke="#888"/>`,
      `<text x="${x.toFixed(1)}" y="${base + 16}" text-anchor="middle" fill="#444">${formatMs(Number(ms.toPrecision(1)))}</text>`,
    );
  }
  for (const [label, ms, color] of [
    ['p50', panel.p50Ms, '#2a9d3a'],
    ['p99', panel.p99Ms, '#d03030'],
  ] as const) {
    const x = xOfMs(Math.max(ms, 1e-3)).toFixed(1);
    out.push(
      `<line x1="${x}" y1="${y0 + TOP}" x2="${x}" y2="${base}" stroke="${color}" stroke-dasharray="4 3"/>`,
      `<text x="${x}" y="${y0 + TOP - 2}" text-anchor="middle" fill="${color}">${label}</text>`,
    );
  }
  out.push('</g>');
  return out.join('\n');
}
