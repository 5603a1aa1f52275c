/**
 * `npm run bench -- risk`: the mixed flow across 10,000 funded margin accounts, with the risk core on
 * (pre-trade margin checks, fees, positions, ledger) against the same engine with it off, repeats
 * interleaved in one process. Accounts are created, opened and funded before timing, and the instrument has a
 * mark price (the flow's mid), so positions carry unrealized PnL and every margin computation does its full
 * work (until 2026-11-25 there was none, which skipped the unrealized-PnL arithmetic: ~12% flattering).
 *
 * Both engines replay the same orders; a dry run of each checks the final book against the reference, so
 * a risk core that refused orders (and so did less work) shows up as a mismatch and in `rejects`.
 */
import { describeFlow, flowParamsFromFlags, generateFlow, toEngineCommands } from './flow.js';
import { Flags } from './lib/args.js';
import {
  dryRun,
  openSession,
  runEngine,
  runEngineLatency,
  type SessionOptions,
} from './lib/engine-session.js';
import {
  chunkRates,
  kindRecorders,
  latencySummaries,
  medianRun,
  micros,
  type RunMarks,
  round1,
} from './lib/flow-metrics.js';
import { forceGc } from './lib/gc.js';
import { countInstructions, valgrindAvailable } from './lib/instructions.js';
import type { Plot } from './lib/plot.js';
import { status } from './lib/progress.js';
import { interleave } from './lib/repeat.js';
import { roundSpread } from './lib/stats.js';

/** Issue #3's target. */
const TARGET_RISK_ON_OPS_PER_SEC = 1_000_000;

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const flags = new Flags(args);
  const params = flowParamsFromFlags(flags, { accounts: 10_000 });
  const repeats = flags.int('repeats', 5, 1);
  const warmup = flags.int('warmup', 1, 0);
  const deposit = flags.str('deposit', '1000000');
  const leverage = flags.str('leverage', '10');
  const chunk = flags.int('chunk', 10_000, 1);
  // Opt-in (slow): instructions per op under callgrind, which a busy machine cannot skew.
  const instructionOps = flags.int('instructions', 0, 0);
  // Counted ops start after this many, so the book has its depth and the JIT its optimized code.
  const instructionWarm = flags.int('instructions-warm', 20_000, 0);
  flags.done();

  status(`risk: generating the flow: ${describeFlow(params)}`);
  const flow = generateFlow(params);
  const modes = { off: false, on: true } as const;
  const setups: Record<keyof typeof modes, SessionOptions> = {
    off: { risk: false, accounts: params.accounts, deposit, leverage },
    on: { risk: true, accounts: params.accounts, deposit, leverage },
  };

  status(`risk: opening and funding ${params.accounts.toLocaleString('en-US')} accounts, dry runs`);
  const prepared = Object.fromEntries(
    (Object.keys(modes) as Array<keyof typeof modes>).map((mode) => {
      const s = openSession(setups[mode]);
      const cmds = toEngineCommands(flow, { accountIds: s.accountIds, firstSeq: s.firstSeq });
      const dry = dryRun(s, cmds, flow);
      if (dry.depthMismatch)
        status(`risk: WARNING (risk ${mode}): final book differs from the reference: ${dry.depthMismatch}`);
      return [mode, { cmds, dry, firstSeq: s.firstSeq }];
    }),
  ) as Record<
    keyof typeof modes,
    { cmds: ReturnType<typeof toEngineCommands>; dry: ReturnType<typeof dryRun>; firstSeq: number }
  >;

  const runs: Record<string, RunMarks[]> = { off: [], on: [] };
  const contender = (mode: keyof typeof modes) => ({
    name: mode,
    run: (r: number) => {
      const s = openSession(setups[mode]);
      if (s.firstSeq !== prepared[mode].firstSeq)
        throw new Error('engine setup is not deterministic (seq differs)');
      forceGc();
      const res = runEngine(s, prepared[mode].cmds, chunk, 0);
      const opsPerSec = flow.length / (res.elapsedNs / 1e9);
      if (r >= 0) runs[mode].push({ opsPerSec, marks: res.marks });
      return opsPerSec;
    },
  });
  const spreads = await interleave([contender('off'), contender('on')], {
    warmup,
    repeats,
    onRun: (name, r, w) => status(`risk: risk ${name} ${w ? 'warm-up' : `run ${r + 1}/${repeats}`}`),
  });

  status('risk: latency pass (every op timed on its own)');
  const lat = { off: kindRecorders(), on: kindRecorders() };
  for (const mode of ['off', 'on'] as const) {
    const s = openSession(setups[mode]);
    forceGc();
    runEngineLatency(s, prepared[mode].cmds, flow, lat[mode].byKind, lat[mode].all);
  }

  let instructions: Record<string, unknown> | null = null;
  if (instructionOps > 0) {
    if (!valgrindAvailable()) throw new Error('--instructions needs valgrind on PATH');
    status(
      `risk: counting instructions under callgrind for ${instructionOps.toLocaleString('en-US')} ops (slow)`,
    );
    const counts = await countInstructions(params, instructionWarm, instructionOps, [
      'engine',
      'engine-risk',
    ]);
    const offI = counts.find((c) => c.book === 'engine')?.instructionsPerOp ?? Number.NaN;
    const onI = counts.find((c) => c.book === 'engine-risk')?.instructionsPerOp ?? Number.NaN;
    instructions = {
      riskOff: offI,
      riskOn: onI,
      onOverOff: round1(onI / offI),
      basis: `ops ${instructionWarm.toLocaleString('en-US')}..${(instructionWarm + instructionOps).toLocaleString('en-US')} of the same flow after the earlier ones warmed the JIT (valgrind --tool=callgrind, node --predictable; the risk-on setup's deposits use the default --deposit and --leverage)`,
    };
  }

  const off = spreads.off;
  const on = spreads.on;
  const dryOn = prepared.on.dry;
  return {
    workload: `${describeFlow(params)}; each account opened with max leverage ${leverage}, margin enabled, funded with ${deposit} USD before timing; mark price 100.00 (the mid)`,
    riskOffOpsPerSec: Math.round(off.median),
    riskOnOpsPerSec: Math.round(on.median),
    riskOnOverOff: round1((on.median / off.median) * 100) / 100,
    target: `${TARGET_RISK_ON_OPS_PER_SEC.toLocaleString('en-US')} ops/s with risk on: ${on.median >= TARGET_RISK_ON_OPS_PER_SEC ? 'met' : 'NOT met'}`,
    riskOff: { opsPerSec: roundSpread(off), latency: latencySummaries(lat.off) },
    riskOn: {
      opsPerSec: roundSpread(on),
      latency: latencySummaries(lat.on),
      finalBookMatchesReference: dryOn.depthMismatch === null,
      ...(dryOn.depthMismatch ? { finalBookMismatch: dryOn.depthMismatch } : {}),
      rejects: dryOn.rejects,
      trades: dryOn.trades,
      eventsPerOp: round1(dryOn.events / flow.length),
    },
    riskOffEventsPerOp: round1(prepared.off.dry.events / flow.length),
    repeats,
    warmup: `${warmup} run(s) plus a dry run each`,
    flow: { ...flow.stats, seed: params.seed, ops: params.ops },
    ...(instructions ? { instructionsPerOp: instructions } : {}),
    plots: [
      {
        id: 'latency',
        title: 'Per-operation latency: risk core on vs off',
        note: `${flow.length.toLocaleString('en-US')}-op mixed flow, ${params.accounts.toLocaleString('en-US')} accounts`,
        xLabel: 'percentile',
        yLabel: 'latency (µs)',
        axis: { x: 'percentile', y: 'log' },
        series: [
          { name: 'risk off', points: micros(lat.off.all.distribution()) },
          { name: 'risk on', points: micros(lat.on.all.distribution()) },
        ],
      },
      {
        id: 'throughput',
        title: 'Throughput over time: risk core on vs off (median runs)',
        note: `rate per ${chunk.toLocaleString('en-US')}-op chunk`,
        xLabel: 'seconds since start',
        yLabel: 'ops/s',
        series: [
          { name: 'risk off', points: chunkRates(medianRun(runs.off), 'time') },
          { name: 'risk on', points: chunkRates(medianRun(runs.on), 'time') },
        ],
      },
    ] satisfies Plot[],
  };
}
