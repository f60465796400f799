// The concurrency plot of docs/performance.md, drawn from the JSON lines of one bench run: added latency
// (voice-to-voice overhead p50/p99) and event-loop delay p99 against the number of concurrent calls, ours
// (`concurrent_trial`) and the peer's (`lk_concurrent_trial`). Plain SVG, no dependency; a failing trial is drawn hollow.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

interface Trial {
  n: number;
  pass: boolean;
  overheadP50: number;
  overheadP99: number;
  eldP99: number;
}

interface Series {
  label: string;
  color: string;
  trials: Trial[];
}

function statOf(value: unknown, key: 'p50' | 'p99'): number | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = (value as Record<string, unknown>)[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** The trials of one side from the run's JSON lines. */
export function trialsFromLines(lines: readonly string[], name: string): Trial[] {
  const trials: Trial[] = [];
  for (const line of lines) {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (parsed.name !== name || typeof parsed.value !== 'number') continue;
    const overheadP50 = statOf(parsed.overhead_ms, 'p50');
    const overheadP99 = statOf(parsed.overhead_ms, 'p99');
    const eldP99 = statOf(parsed.event_loop_delay_ms, 'p99');
    if (overheadP50 === undefined || overheadP99 === undefined || eldP99 === undefined) continue;
    trials.push({ n: parsed.value, pass: parsed.pass === true, overheadP50, overheadP99, eldP99 });
  }
  return trials.sort((a, b) => a.n - b.n);
}

const WIDTH = 960;
const HEIGHT = 420;
const PANEL = { top: 50, bottom: 360, width: 380 };
const PANEL_LEFT = [70, 540] as const;

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Renders the two panels; returns the SVG text. */
export function concurrencyPlotSvg(series: readonly Series[]): string {
  const all = series.flatMap((s) => s.trials);
  const maxN = Math.max(2, ...all.map((t) => t.n));
  const minN = Math.max(1, Math.min(...all.map((t) => t.n)));
  const logMin = Math.log10(minN / 1.5);
  const logMax = Math.log10(maxN * 1.5);
  const x = (panel: number, n: number): number =>
    PANEL_LEFT[panel]! + ((Math.log10(n) - logMin) / (logMax - logMin)) * PANEL.width;
  const ticks = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000].filter((t) => t >= minN / 1.5 && t <= maxN * 1.5);

  const panels = [
    { title: 'Added latency (voice-to-voice overhead), ms', max: niceMax(Math.max(...all.map((t) => t.overheadP99))), limit: undefined },
    { title: 'Event-loop delay p99, ms (pass < 20)', max: niceMax(Math.max(25, ...all.map((t) => t.eldP99))), limit: 20 },
  ];
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  panels.forEach((panel, index) => {
    const left = PANEL_LEFT[index]!;
    const y = (v: number): number => PANEL.bottom - (v / panel.max) * (PANEL.bottom - PANEL.top);
    out.push(`<text x="${left}" y="${PANEL.top - 18}" font-weight="bold">${escapeXml(panel.title)}</text>`);
    out.push(`<line x1="${left}" y1="${PANEL.bottom}" x2="${left + PANEL.width}" y2="${PANEL.bottom}" stroke="#333"/>`);
    out.push(`<line x1="${left}" y1="${PANEL.top}" x2="${left}" y2="${PANEL.bottom}" stroke="#333"/>`);
    for (let i = 0; i <= 5; i++) {
      const v = (panel.max * i) / 5;
      out.push(`<line x1="${left}" y1="${y(v)}" x2="${left + PANEL.width}" y2="${y(v)}" stroke="#eee"/>`);
      out.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${Number(v.toFixed(1))}</text>`);
    }
    for (const t of ticks) {
      out.push(`<text x="${x(index, t)}" y="${PANEL.bottom + 16}" text-anchor="middle">${t}</text>`);
    }
    out.push(`<text x="${left + PANEL.width / 2}" y="${PANEL.bottom + 34}" text-anchor="middle">concurrent calls (log scale)</text>`);
    if (panel.limit !== undefined) {
      out.push(`<line x1="${left}" y1="${y(panel.limit)}" x2="${left + PANEL.width}" y2="${y(panel.limit)}" stroke="#c00" stroke-dasharray="4 3"/>`);
    }
    for (const s of series) {
      const lines: Array<{ key: 'overheadP50' | 'overheadP99' | 'eldP99'; dash: string }> =
        index === 0 ? [{ key: 'overheadP99', dash: '' }, { key: 'overheadP50', dash: '5 4' }] : [{ key: 'eldP99', dash: '' }];
      for (const { key, dash } of lines) {
        if (s.trials.length === 0) continue;
        const points = s.trials.map((t) => `${x(index, t.n).toFixed(1)},${y(t[key]).toFixed(1)}`).join(' ');
        out.push(`<polyline points="${points}" fill="none" stroke="${s.color}" stroke-width="2" stroke-dasharray="${dash}"/>`);
        for (const t of s.trials) {
          out.push(
            `<circle cx="${x(index, t.n).toFixed(1)}" cy="${y(t[key]).toFixed(1)}" r="4" stroke="${s.color}" stroke-width="2" fill="${t.pass ? s.color : 'white'}"/>`,
          );
        }
      }
    }
  });
  series.forEach((s, i) => {
    const lx = 70 + i * 260;
    out.push(`<rect x="${lx}" y="${HEIGHT - 22}" width="14" height="4" fill="${s.color}"/>`);
    out.push(`<text x="${lx + 20}" y="${HEIGHT - 16}">${escapeXml(s.label)}</text>`);
  });
  out.push(`<text x="590" y="${HEIGHT - 16}">solid: p99, dashed: p50; hollow: trial failed</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** Writes the plot when the run has concurrency trials; returns whether it did. */
export function writeConcurrencyPlot(lines: readonly string[], file: string): boolean {
  const series: Series[] = [
    { label: 'piopiy-ai (concurrent_trial)', color: '#1f6fd1', trials: trialsFromLines(lines, 'concurrent_trial') },
    { label: 'LiveKit Agents (lk_concurrent_trial)', color: '#e07b00', trials: trialsFromLines(lines, 'lk_concurrent_trial') },
  ].filter((s) => s.trials.length > 0);
  if (series.length === 0) return false;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, concurrencyPlotSvg(series));
  return true;
}
