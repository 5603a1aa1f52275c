/**
 * `npm run bench -- engine`: this project's matching core against `nodejs-order-book` on the identical
 * seeded mixed flow, in one process, repeats interleaved. Reports ops/s for each and their ratio, per-op
 * latency percentiles, and heap bytes per resting order with 1M resting orders.
 *
 * Both books run the whole flow: the peer slows down as its book deepens (its cancel walks a level's
 * queue), so a ratio over a prefix would flatter it. The peer is slow (about a minute and a half for 1M
 * ops here), so it runs once, without a separate warm-up run (its JIT warms in the first few thousand ops).
 * `--peer-ops N` runs only the flow's first N ops on the peer; the ratio then compares both books over
 * exactly that prefix (the engine's rate over the prefix is timed inside its full run), and says so.
 */
import type { Command } from '../engine/commands.js';
import {
  describeFlow,
  type Flow,
  flowParamsFromFlags,
  generateFlow,
  OP_CANCEL,
  OP_LIMIT,
  OP_MARKET,
  toEngineCommands,
  toPeerOps,
} from './flow.js';
import { Flags } from './lib/args.js';
import { diffDepth } from './lib/depth.js';
import {
  type DryRunReport,
  dryRun,
  openSession,
  runEngine,
  runEngineLatency,
  type Session,
  type SessionOptions,
} from './lib/engine-session.js';
import {
  chunkRates,
  type KindRecorders,
  kindRecorders,
  latencySummaries,
  median,
  medianRun,
  micros,
  type RunMarks,
  round1,
} from './lib/flow-metrics.js';
import { forceGc } from './lib/gc.js';
import { measureHeap } from './lib/heap.js';
import { countInstructions, valgrindAvailable } from './lib/instructions.js';
import { timerOverheadNs } from './lib/latency.js';
import { newPeerBook, PEER_NAME, peerDepth, runPeer, runPeerLatency } from './lib/peer.js';
import type { Plot } from './lib/plot.js';
import { Progress, status } from './lib/progress.js';
import { interleave } from './lib/repeat.js';
import { roundSpread, type Spread } from './lib/stats.js';

/** Issue #2's targets, reported as met or not next to the numbers. */
const TARGET_OPS_PER_SEC = 2_000_000;
const TARGET_RATIO = 100;
const TARGET_HEAP_MIB_PER_1M = 256;

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const flags = new Flags(args);
  const params = flowParamsFromFlags(flags);
  const repeats = flags.int('repeats', 5, 1);
  const warmup = flags.int('warmup', 1, 0);
  const peerOps = Math.min(params.ops, flags.int('peer-ops', params.ops, 0));
  const peerRepeats = flags.int('peer-repeats', 1, 1);
  const peerWarmup = flags.int('peer-warmup', 0, 0);
  const peerLatencyOps = Math.min(peerOps, flags.int('peer-latency-ops', 100_000, 0));
  const heapOrders = flags.int('heap-orders', 1_000_000, 0);
  const peerHeapOrders = flags.int('peer-heap-orders', 200_000, 0);
  const chunk = flags.int('chunk', 10_000, 1);
  // Opt-in (slow): instructions per op under callgrind, which a busy machine cannot skew.
  const instructionOps = flags.int('instructions', 0, 0);
  // Counted ops start after this many, so the book has its depth and the JIT its optimized code.
  const instructionWarm = flags.int('instructions-warm', 100_000, 0);
  flags.done();

  status(`engine: generating the flow: ${describeFlow(params)}`);
  const flow = generateFlow(params);
  const sessionOpts = { risk: false, accounts: params.accounts, deposit: '0', leverage: '1' };
  status('engine: dry run (resolves order ids, checks the final book against the reference)');
  const { cmds, dry, firstSeq } = prepareEngineFlow(flow, sessionOpts);
  const peerOpsList = peerOps > 0 ? toPeerOps(flow, peerOps) : [];
  if (dry.depthMismatch)
    status(`engine: WARNING: final book differs from the reference: ${dry.depthMismatch}`);
  const fresh = (): Session => {
    const s = openSession(sessionOpts);
    if (s.firstSeq !== firstSeq) throw new Error('engine setup is not deterministic (seq differs)');
    return s;
  };

  // The peer's prefix must end in the reference book for that prefix (a shorter flow is a prefix).
  const peerExpected =
    peerOps === params.ops ? flow.finalDepth : generateFlow({ ...params, ops: peerOps }).finalDepth;
  let peerMismatch: string | null = null;
  const engineRuns: RunMarks[] = [];
  const peerRuns: RunMarks[] = [];
  const prefixRates: number[] = [];

  const spreads = await interleave(
    [
      {
        name: 'engine',
        run: (r) => {
          const s = fresh();
          forceGc();
          const res = runEngine(s, cmds, chunk, peerOps);
          const opsPerSec = cmds.length / (res.elapsedNs / 1e9);
          if (r >= 0) {
            engineRuns.push({ opsPerSec, marks: res.marks });
            if (peerOps > 0) prefixRates.push(peerOps / (res.prefixNs / 1e9));
          }
          return opsPerSec;
        },
      },
      ...(peerOps > 0
        ? [
            {
              name: 'peer',
              repeats: peerRepeats,
              warmup: peerWarmup,
              run: (r: number) => {
                const ob = newPeerBook();
                forceGc();
                const progress = new Progress(
                  `peer ${r < 0 ? 'warm-up' : `run ${r + 1}/${peerRepeats}`}`,
                  peerOps,
                );
                const res = runPeer(ob, peerOpsList, peerOps, chunk, progress);
                progress.done();
                peerMismatch ??= diffDepth(peerExpected, peerDepth(ob));
                const opsPerSec = peerOps / (res.elapsedNs / 1e9);
                if (r >= 0) peerRuns.push({ opsPerSec, marks: res.marks });
                return opsPerSec;
              },
            },
          ]
        : []),
    ],
    {
      warmup,
      repeats,
      onRun: (name, r, isWarmup) =>
        status(
          `engine: ${name} ${isWarmup ? 'warm-up' : `run ${r + 1}`} (${name === 'peer' ? peerOps : cmds.length} ops)`,
        ),
    },
  );
  if (peerMismatch)
    status(`engine: WARNING: the peer's final book differs from the reference: ${peerMismatch}`);

  status('engine: latency pass (every op timed on its own)');
  const overhead = timerOverheadNs();
  const engineLat = kindRecorders();
  forceGc();
  runEngineLatency(fresh(), cmds, flow, engineLat.byKind, engineLat.all);
  const peerLat = kindRecorders();
  if (peerLatencyOps > 0) {
    forceGc();
    runPeerLatency(newPeerBook(), peerOpsList, peerLatencyOps, peerLat.byKind, peerLat.all);
  }

  let heap: ReturnType<typeof measureHeap> | null = null;
  let peerHeap: ReturnType<typeof measureHeap> | null = null;
  if (heapOrders > 0) {
    status(`engine: heap probe, ${heapOrders.toLocaleString('en-US')} resting orders (separate process)`);
    heap = measureHeap('engine', heapOrders);
  }
  if (peerHeapOrders > 0) {
    status(
      `engine: peer heap probe, ${peerHeapOrders.toLocaleString('en-US')} resting orders (separate process)`,
    );
    peerHeap = measureHeap('peer', peerHeapOrders);
  }

  let instructions: Record<string, unknown> | null = null;
  if (instructionOps > 0) {
    if (!valgrindAvailable()) throw new Error('--instructions needs valgrind on PATH');
    status(
      `engine: counting instructions under callgrind for ${instructionOps.toLocaleString('en-US')} ops (slow)`,
    );
    const counts = await countInstructions(params, instructionWarm, Math.min(instructionOps, params.ops));
    const e = counts.find((c) => c.book === 'engine')?.instructionsPerOp ?? Number.NaN;
    const p = counts.find((c) => c.book === 'peer')?.instructionsPerOp ?? Number.NaN;
    instructions = {
      engine: e,
      peer: p,
      ratio: round1(p / e),
      basis: `ops ${instructionWarm.toLocaleString('en-US')}..${(instructionWarm + instructionOps).toLocaleString('en-US')} of the same flow, after the earlier ones warmed the JIT (valgrind --tool=callgrind, node --predictable)`,
    };
  }

  const engineOps = spreads.engine;
  const peerSpread: Spread | undefined = spreads.peer;
  const prefix = prefixRates.length ? median(prefixRates) : Number.NaN;
  const ratio = peerSpread ? prefix / peerSpread.median : Number.NaN;
  const capped = peerOps < params.ops;
  const heapMiB1M = heap ? (heap.heapBytesPerRestingOrder * 1_000_000) / 2 ** 20 : Number.NaN;

  return {
    workload: describeFlow(params),
    engineOpsPerSec: Math.round(engineOps.median),
    peerOpsPerSec: peerSpread ? Math.round(peerSpread.median) : null,
    ratio: round1(ratio),
    heapBytesPerRestingOrder: heap?.heapBytesPerRestingOrder ?? null,
    peer: PEER_NAME,
    peerOps,
    peerCapped: capped,
    ratioBasis: capped
      ? `peer capped: both books over the first ${peerOps.toLocaleString('en-US')} of ${params.ops.toLocaleString('en-US')} ops of the same flow (engine ${Math.round(prefix).toLocaleString('en-US')} ops/s over that prefix)`
      : 'both books over the whole flow',
    targets: {
      engineOpsPerSec: `${TARGET_OPS_PER_SEC.toLocaleString('en-US')}: ${engineOps.median >= TARGET_OPS_PER_SEC ? 'met' : 'NOT met'}`,
      ratio: `${TARGET_RATIO}x: ${ratio >= TARGET_RATIO ? 'met' : Number.isNaN(ratio) ? 'not measured' : 'NOT met'}`,
      heapFor1MRestingOrders: heap
        ? `${TARGET_HEAP_MIB_PER_1M} MiB: ${heapMiB1M <= TARGET_HEAP_MIB_PER_1M ? 'met' : 'NOT met'} (${Math.round(heapMiB1M)} MiB)`
        : 'not measured',
    },
    engine: {
      opsPerSec: roundSpread(engineOps),
      prefixOpsPerSec: peerOps > 0 ? Math.round(prefix) : null,
      repeats,
      warmup: `${warmup} run(s) plus the dry run`,
      latency: latencySummaries(engineLat),
      finalBookMatchesReference: dry.depthMismatch === null,
      ...(dry.depthMismatch ? { finalBookMismatch: dry.depthMismatch } : {}),
      restingOrdersAtEnd: dry.restingOrders,
      trades: dry.trades,
      eventsPerOp: round1(dry.events / cmds.length),
      rejects: dry.rejects,
      cancelsRetargeted: dry.retargeted,
    },
    peerResults: peerSpread
      ? {
          opsPerSec: roundSpread(peerSpread),
          repeats: peerRepeats,
          latencyOps: peerLatencyOps,
          latency: peerLatencyOps > 0 ? latencySummaries(peerLat) : null,
          finalBookMatchesReference: peerMismatch === null,
          ...(peerMismatch ? { finalBookMismatch: peerMismatch } : {}),
        }
      : null,
    heap: heap ?? null,
    peerHeap: peerHeap ?? null,
    flow: { ...flow.stats, seed: params.seed, ops: params.ops },
    ...(instructions ? { instructionsPerOp: instructions } : {}),
    timerOverheadNs: overhead,
    latencyNote: `every op timed alone with process.hrtime.bigint() (a timer pair costs ~${overhead} ns, included)`,
    plots: plots(flow, engineLat, peerLat, engineRuns, peerRuns, peerLatencyOps),
  };
}

/**
 * Renders the flow for the engine and dry-runs it on a throwaway engine. In a function of its own so that
 * engine (and its 100k-order book) is garbage before the measured runs, not in every GC's marking work.
 */
function prepareEngineFlow(
  flow: Flow,
  opts: SessionOptions,
): { cmds: Command[]; dry: DryRunReport; firstSeq: number } {
  const setup = openSession(opts);
  const cmds = toEngineCommands(flow, { accountIds: setup.accountIds, firstSeq: setup.firstSeq });
  return { cmds, dry: dryRun(setup, cmds, flow), firstSeq: setup.firstSeq };
}

function plots(
  flow: Flow,
  engineLat: KindRecorders,
  peerLat: KindRecorders,
  engineRuns: RunMarks[],
  peerRuns: RunMarks[],
  peerLatencyOps: number,
): Plot[] {
  const us = micros;
  const latency: Plot = {
    id: 'latency',
    title: 'Per-operation latency distribution',
    note: `${flow.length.toLocaleString('en-US')}-op mixed flow (peer: first ${peerLatencyOps.toLocaleString('en-US')} ops)`,
    xLabel: 'percentile',
    yLabel: 'latency (µs)',
    axis: { x: 'percentile', y: 'log' },
    series: [
      { name: 'engine: all ops', points: us(engineLat.all.distribution()) },
      { name: 'engine: limit', points: us(engineLat.byKind[OP_LIMIT].distribution()) },
      { name: 'engine: cancel', points: us(engineLat.byKind[OP_CANCEL].distribution()) },
      { name: 'engine: market', points: us(engineLat.byKind[OP_MARKET].distribution()) },
      ...(peerLatencyOps > 0 ? [{ name: 'peer: all ops', points: us(peerLat.all.distribution()) }] : []),
    ],
  };
  const along = (runs: RunMarks[]) => chunkRates(medianRun(runs), 'ops');
  const engineAlong = along(engineRuns);
  const throughput: Plot = {
    id: 'throughput',
    title: 'Engine throughput over time (median run)',
    note: `${flow.length.toLocaleString('en-US')}-op mixed flow, seed ${flow.params.seed}; rate per chunk`,
    xLabel: 'seconds since start',
    yLabel: 'ops/s (per 10k-op chunk)',
    series: [{ name: 'engine', points: chunkRates(medianRun(engineRuns), 'time') }],
  };
  const vsPeer: Plot = {
    id: 'throughput-vs-peer',
    title: 'Throughput along the flow: engine vs nodejs-order-book',
    note: 'rate per chunk as the book deepens; median run of each',
    xLabel: 'ops completed',
    yLabel: 'ops/s',
    axis: { y: 'log' },
    series: [
      { name: 'engine', points: engineAlong },
      { name: 'nodejs-order-book', points: along(peerRuns) },
    ],
  };
  return [latency, throughput, vsPeer];
}
