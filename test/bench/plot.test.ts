import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { peerArguments, preparePeer } from '../../bench/peers.js';
import { concurrencyPlotSvg, trialsFromLines, writeConcurrencyPlot } from '../../bench/plot.js';

const trial = (name: string, n: number, pass: boolean, p99: number): string =>
  JSON.stringify({ name, value: n, pass, overhead_ms: { p50: p99 / 2, p99 }, event_loop_delay_ms: { p50: 1, p99: p99 / 10 } });

describe('concurrency plot', () => {
  it('reads the trials of each side from the JSON lines, sorted by N, skipping other lines', () => {
    const lines = [
      trial('concurrent_trial', 200, false, 90),
      trial('lk_concurrent_trial', 20, true, 140),
      trial('concurrent_trial', 100, true, 30),
      '{"name":"concurrent_trial","value":5}',
      'not json',
    ];
    expect(trialsFromLines(lines, 'concurrent_trial')).toEqual([
      { n: 100, pass: true, overheadP50: 15, overheadP99: 30, eldP99: 3 },
      { n: 200, pass: false, overheadP50: 45, overheadP99: 90, eldP99: 9 },
    ]);
    expect(trialsFromLines(lines, 'lk_concurrent_trial').map((t) => t.n)).toEqual([20]);
  });

  it('draws both sides, failing trials hollow, and writes nothing without trials', () => {
    const dir = mkdtempSync(join(tmpdir(), 'plot-'));
    const file = join(dir, 'out', 'c.svg');
    expect(writeConcurrencyPlot(['{"name":"g711","value":1}'], file)).toBe(false);
    expect(
      writeConcurrencyPlot([trial('concurrent_trial', 100, true, 30), trial('lk_concurrent_trial', 40, false, 240)], file),
    ).toBe(true);
    const svg = readFileSync(file, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('piopiy-ai');
    expect(svg).toContain('LiveKit Agents');
    // one hollow marker per panel line of the failing peer trial (p99 + p50 on the left, eld on the right)
    expect(svg.match(/<circle[^>]*fill="white"\/>/g)).toHaveLength(3);
    expect(concurrencyPlotSvg([])).toContain('</svg>');
  });
});

describe('peer harness setup', () => {
  it('passes the shared measurement window to the peer and maps its ladder', () => {
    expect(peerArguments(['--duration=30', '--turns=8', '--only=latency', '--ns=50,100', '--peer-ns=10,20'])).toEqual([
      '--duration=30',
      '--turns=8',
      '--only=latency',
      '--ns=10,20',
    ]);
  });

  it('refuses clearly when the peer harness is not there', async () => {
    const previous = process.env.PIOPIY_PEER_LIVEKIT_DIR;
    process.env.PIOPIY_PEER_LIVEKIT_DIR = join(tmpdir(), 'no-such-peer-dir');
    try {
      const setup = await preparePeer(mkdtempSync(join(tmpdir(), 'root-')));
      expect(setup).toMatchObject({ ok: false });
      expect(setup.ok ? '' : setup.error).toMatch(/peer harness not found .*bench\.mjs.*PIOPIY_PEER_LIVEKIT_DIR/);
    } finally {
      if (previous === undefined) delete process.env.PIOPIY_PEER_LIVEKIT_DIR;
      else process.env.PIOPIY_PEER_LIVEKIT_DIR = previous;
    }
  });
});
