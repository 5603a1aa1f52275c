/**
 * Instructions per operation, counted by valgrind's callgrind: unlike wall time, the count does not move
 * when other processes share the CPU, so it compares the engine and the peer on a busy machine too.
 *
 * Each book runs twice under callgrind on the flow's first `warm + n` ops: once applying only the first
 * `warm` ops (generation, rendering, JIT warm-up), once applying all of them. The difference is the cost
 * of ops [warm, warm + n) with warm code. Slow (valgrind runs node ~50x slower): opt-in.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type FlowParams, generateFlow, OP_CANCEL, OP_LIMIT, toEngineCommands, toPeerOps } from '../flow.js';
import { openSession, step } from './engine-session.js';
import { newPeerBook } from './peer.js';

/** What runs under callgrind: the engine with the risk core off or on, or the peer. */
export type CountedBook = 'engine' | 'engine-risk' | 'peer';

export interface InstructionCount {
  book: CountedBook;
  ops: number;
  warmOps: number;
  instructionsPerOp: number;
}

export function valgrindAvailable(): boolean {
  return spawnSync('valgrind', ['--version'], { encoding: 'utf8' }).status === 0;
}

/** Runs two callgrind processes per book (base and full), the pair in parallel. */
export async function countInstructions(
  params: FlowParams,
  warm: number,
  n: number,
  books: readonly CountedBook[] = ['engine', 'peer'],
): Promise<InstructionCount[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-callgrind-'));
  try {
    const run = (book: CountedBook, applied: number) => callgrind(dir, book, params, warm + n, applied);
    const out: InstructionCount[] = [];
    for (const book of books) {
      const [base, full] = await Promise.all([run(book, warm), run(book, warm + n)]);
      out.push({ book, ops: n, warmOps: warm, instructionsPerOp: Math.round((full - base) / n) });
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function callgrind(
  dir: string,
  book: string,
  params: FlowParams,
  flowOps: number,
  applied: number,
): Promise<number> {
  const file = path.join(dir, `${book}-${applied}.out`);
  const args = [
    '--tool=callgrind',
    '--smc-check=all', // V8 writes machine code at run time
    `--callgrind-out-file=${file}`,
    process.execPath,
    // V8 otherwise compiles and collects on helper threads at timing-dependent moments: two counts of the
    // same build differed by 40% with only --single-threaded; with --predictable, by 0.2%.
    // (--predictable-gc-schedule is not used: its fixed small heap makes GC dominate the count.)
    '--predictable',
    fileURLToPath(import.meta.url),
    book,
    JSON.stringify({ ...params, ops: flowOps }),
    String(applied),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('valgrind', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('exit', (code) => {
      const m = /Collected : (\d+)/.exec(err);
      if (code !== 0 || !m)
        reject(new Error(`callgrind (${book}, ${applied} ops) failed: ${err.slice(-500)}`));
      else resolve(Number(m[1]));
    });
  });
}

/** Child: build the flow for `params`, apply its first `applied` ops to the book, exit. */
function child(book: string, params: FlowParams, applied: number): void {
  const flow = generateFlow(params);
  if (book === 'engine' || book === 'engine-risk') {
    // Same account setup as the risk part's (bench/risk.ts defaults).
    const opts = {
      risk: book === 'engine-risk',
      accounts: params.accounts,
      deposit: '1000000',
      leverage: '10',
    };
    const s = openSession(opts);
    // A plain loop, like the peer's below: the cancels carry the placement counter as order id, which the
    // engine harness's dry run checks is the engine's numbering (its `cancelsRetargeted` is 0).
    const cmds = toEngineCommands(flow, { accountIds: s.accountIds, firstSeq: s.firstSeq, limit: applied });
    for (const cmd of cmds) step(s, cmd);
    return;
  }
  const ops = toPeerOps(flow, applied);
  const ob = newPeerBook();
  for (const op of ops) {
    if (op.kind === OP_LIMIT) ob.limit(op.opts);
    else if (op.kind === OP_CANCEL) ob.cancel(op.id);
    else ob.market(op.opts);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [book, paramsJson, applied] = process.argv.slice(2);
  child(book, JSON.parse(paramsJson) as FlowParams, Number(applied));
}
