/** The bench framework's pure pieces: flag parsing, summaries, SVG and report writing. No timing. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Flags } from '../../bench/lib/args.js';
import { diffDepth } from '../../bench/lib/depth.js';
import { flattenRows, formatNumber } from '../../bench/lib/format.js';
import { describeMachine } from '../../bench/lib/machine.js';
import { recordOutcome } from '../../bench/lib/results.js';
import { summarize } from '../../bench/lib/stats.js';
import { renderSvg } from '../../bench/lib/svg.js';

describe('bench flags', () => {
  it('reads numbers in the usual spellings and refuses unknown flags', () => {
    const f = new Flags(['--ops', '1_000_000', '--seed=7', '--rate', '1e3', '--quiet', '--name', 'x']);
    expect(f.int('ops', 1)).toBe(1_000_000);
    expect(f.int('seed', 1)).toBe(7);
    expect(f.num('rate', 0)).toBe(1000);
    expect(f.bool('quiet')).toBe(true);
    expect(f.str('name', '')).toBe('x');
    expect(f.int('absent', 5)).toBe(5);
    f.done();
    const typo = new Flags(['--opps', '10']);
    typo.int('ops', 1);
    expect(() => typo.done()).toThrow(/--opps/);
    expect(() => new Flags(['--ops', 'many']).int('ops', 1)).toThrow(/number/);
    expect(() => new Flags(['stray'])).toThrow(/unexpected argument/);
  });
});

describe('bench summaries', () => {
  it('gives the median and spread of repeats', () => {
    const s = summarize([5, 1, 4, 2, 3]);
    expect(s).toMatchObject({ median: 3, min: 1, max: 5, p25: 2, p75: 4, n: 5 });
    expect(summarize([1, 2]).median).toBe(1.5);
  });

  it('flattens results into table rows', () => {
    const rows = flattenRows({
      a: 1234567,
      nested: { b: 0.012345, spread: { median: 10, min: 9, max: 12, n: 3, samples: [9, 10, 12] } },
      lat: { count: 10, p50Ns: 1500, p99Ns: 2_000_000, p999Ns: 3e9, maxNs: 4e9 },
      plots: [{ id: 'x' }],
    });
    expect(rows).toEqual([
      ['a', '1,234,567'],
      ['nested.b', '0.0123'],
      ['nested.spread', '10 (min 9, max 12, n=3)'],
      ['lat', 'p50 1.5 µs, p99 2 ms, p99.9 3 s, max 4 s (n=10)'],
    ]);
    expect(formatNumber(99.5)).toBe('99.5');
  });
});

describe('bench reports', () => {
  it('draws an SVG with escaped labels, also without data', () => {
    const svg = renderSvg({
      id: 'lat',
      title: 'p < 1 & "q"',
      xLabel: 'percentile',
      yLabel: 'µs',
      axis: { x: 'percentile', y: 'log' },
      series: [
        {
          name: 'a',
          points: [
            [50, 1],
            [99, 10],
            [99.9, 100],
          ],
        },
      ],
    });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('p &lt; 1 &amp; &quot;q&quot;');
    expect(svg).toContain('99.9%');
    expect(svg).toContain('<path d="M');
    expect(renderSvg({ id: 'e', title: 't', xLabel: 'x', yLabel: 'y', series: [] })).toContain('no data');
  });

  it('merges each part into latest.json and writes latest.md and the plots', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bench-results-'));
    const base = {
      command: 'npm run bench -- x',
      startedAt: new Date().toISOString(),
      durationSec: 1,
      machine: describeMachine(),
    };
    recordOutcome(
      {
        ...base,
        part: 'engine',
        status: 'ok',
        result: {
          workload: 'w',
          engineOpsPerSec: 5,
          plots: [{ id: 'lat', title: 't', xLabel: 'x', yLabel: 'y', series: [] }],
        },
      },
      dir,
    );
    // A part recorded by an older version, whose machine has no nodeFlags: the report still renders.
    const { nodeFlags: _, ...olderMachine } = base.machine;
    recordOutcome(
      { ...base, machine: olderMachine, part: 'e2e', status: 'missing', error: 'missing: not written yet' },
      dir,
    );
    const json = JSON.parse(readFileSync(path.join(dir, 'latest.json'), 'utf8'));
    expect(Object.keys(json.parts).sort()).toEqual(['e2e', 'engine']);
    expect(json.parts.engine.plots).toEqual(['engine-lat.svg']);
    expect(readFileSync(path.join(dir, 'engine-lat.svg'), 'utf8')).toContain('<svg');
    const md = readFileSync(path.join(dir, 'latest.md'), 'utf8');
    expect(md).toContain('| engineOpsPerSec | 5 |');
    expect(md).toContain('![engine-lat.svg](engine-lat.svg)');
    expect(md).toContain('**missing**');
  });

  it('compares depths', () => {
    expect(diffDepth({ bids: [[1, 2]], asks: [] }, { bids: [[1, 2]], asks: [] })).toBeNull();
    expect(diffDepth({ bids: [[1, 2]], asks: [] }, { bids: [[1, 3]], asks: [] })).toMatch(/bids\[0\]/);
  });
});
