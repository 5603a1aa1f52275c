/**
 * `npm run bench` runs every part; `npm run bench -- <part> [flags]` runs one.
 *
 * One part runs in this process (re-spawned with --expose-gc when needed), prints a table, writes its
 * results under bench/results/, and prints as the LAST line of stdout one JSON object with its numbers.
 *
 * The full suite runs each part in its own child process: a part then starts from a clean heap and a cold
 * JIT whatever ran before it, a crash or a hang in one part (killed at its time cap) does not take the
 * others down, and the suite stays inside its 20-minute budget.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { UsageError } from './lib/args.js';
import { flattenRows, formatValue } from './lib/format.js';
import { ensureGcOrRespawn } from './lib/gc.js';
import { describeMachine, machineLine } from './lib/machine.js';
import { projectRoot } from './lib/paths.js';
import { status } from './lib/progress.js';
import { type PartOutcome, readResults, recordOutcome, resultsDir } from './lib/results.js';
import { renderTable } from './lib/table.js';
import { findPart, PARTS, type PartInfo, SUITE_BUDGET_SEC } from './parts.js';

type PartRun = (args: string[]) => Promise<Record<string, unknown>>;

const MISSING_EXIT = 3;

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    printHelp();
    return 0;
  }
  if (first === undefined || first.startsWith('--')) return runSuite(argv);
  const part = findPart(first);
  if (part === undefined) {
    process.stderr.write(`unknown part "${first}"; parts: ${PARTS.map((p) => p.name).join(', ')}\n`);
    return 2;
  }
  ensureGcOrRespawn();
  return runOne(part, rest);
}

async function runOne(part: PartInfo, args: string[]): Promise<number> {
  const machine = describeMachine();
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const command = ['npm run bench --', part.name, ...args].join(' ');
  status(`bench ${part.name}: ${part.what}`);
  status(`machine: ${machineLine(machine)}`);
  const base = { part: part.name, command, startedAt, machine };
  let outcome: PartOutcome;
  const loaded = await loadPart(part);
  if (typeof loaded === 'string') {
    outcome = {
      ...base,
      status: loaded.startsWith('missing') ? 'missing' : 'failed',
      durationSec: 0,
      error: loaded,
    };
  } else {
    try {
      const result = await loaded(args);
      outcome = { ...base, status: 'ok', durationSec: seconds(t0), result: { ...result, machine } };
    } catch (err) {
      if (err instanceof UsageError) {
        // A typo on the command line is not a result: keep the previous entry in latest.json.
        process.stderr.write(`bench ${part.name}: ${err.message}\n`);
        process.stdout.write(`${JSON.stringify({ part: part.name, status: 'usage', error: err.message })}\n`);
        return 2;
      }
      const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
      outcome = { ...base, status: 'failed', durationSec: seconds(t0), error: message };
    }
  }
  recordOutcome(outcome);
  if (outcome.status === 'ok' && outcome.result) {
    const workload = outcome.result.workload;
    process.stdout.write(`\n${part.name} (${outcome.durationSec.toFixed(1)} s)\n`);
    if (typeof workload === 'string') process.stdout.write(`workload: ${workload}\n`);
    const rows = flattenRows(outcome.result).filter(([k]) => k !== 'workload');
    process.stdout.write(`${renderTable(['metric', 'value'], rows)}\n`);
    if (outcome.plots?.length) status(`plots: ${outcome.plots.map((f) => `${resultsDir()}/${f}`).join(' ')}`);
  } else {
    process.stderr.write(`bench ${part.name}: ${outcome.status.toUpperCase()}: ${outcome.error}\n`);
  }
  // The machine-readable line: the part's numbers without the plot series (those are in latest.json).
  const { plots: _plots, ...numbers } = outcome.result ?? {};
  const line =
    outcome.status === 'ok'
      ? numbers
      : { part: part.name, status: outcome.status, error: firstLine(outcome.error) };
  process.stdout.write(`${JSON.stringify(line)}\n`);
  if (outcome.status === 'ok') return 0;
  return outcome.status === 'missing' ? MISSING_EXIT : 1;
}

/** Imports a part's module; a string explains why it cannot run. */
async function loadPart(part: PartInfo): Promise<PartRun | string> {
  const url = new URL(`./${part.file}`, import.meta.url);
  const source = `bench/${part.file.replace(/\.js$/, '.ts')}`;
  if (!existsSync(fileURLToPath(url))) {
    return existsSync(path.join(projectRoot(), source))
      ? `missing: ${source} exists but is not built (npm run build)`
      : `missing: ${part.name} is not written yet (no ${source})`;
  }
  try {
    const mod = (await import(url.href)) as { run?: unknown };
    if (typeof mod.run !== 'function') return `bench/${part.file} does not export async function run(args)`;
    return mod.run as PartRun;
  } catch (err) {
    return `failed to load bench/${part.file}: ${err instanceof Error ? err.message : String(err)}`;
  }
}

async function runSuite(args: string[]): Promise<number> {
  if (args.length > 0) {
    process.stderr.write(
      'the full suite takes no flags; run one part to pass flags: npm run bench -- <part> [flags]\n',
    );
    return 2;
  }
  const machine = describeMachine();
  status(
    `bench suite: ${PARTS.length} parts, budget ${SUITE_BUDGET_SEC / 60} min, machine: ${machineLine(machine)}`,
  );
  const t0 = performance.now();
  const suiteStart = Date.now();
  const exits: Record<string, number | string> = {};
  for (const part of PARTS) {
    const left = SUITE_BUDGET_SEC - seconds(t0);
    if (left < 10) {
      exits[part.name] = 'skipped: suite budget spent';
      recordOutcome({
        part: part.name,
        status: 'failed',
        command: ['npm run bench --', part.name, ...part.suiteArgs].join(' '),
        startedAt: new Date().toISOString(),
        durationSec: 0,
        machine,
        error: `skipped: the suite spent its ${SUITE_BUDGET_SEC / 60}-minute budget before this part`,
      });
      continue;
    }
    const cap = Math.min(part.suiteTimeoutSec, left);
    const started = new Date();
    const exit = await runChild(part, cap);
    exits[part.name] = exit;
    // A killed or crashed child recorded nothing: record that, so latest.json never shows an older run's
    // numbers as this run's.
    const entry = readResults().parts[part.name];
    if (entry === undefined || Date.parse(entry.startedAt) < started.getTime()) {
      recordOutcome({
        part: part.name,
        status: 'failed',
        command: ['npm run bench --', part.name, ...part.suiteArgs].join(' '),
        startedAt: started.toISOString(),
        durationSec: (Date.now() - started.getTime()) / 1000,
        machine,
        error: typeof exit === 'string' ? exit : `exited with status ${exit} without a result`,
      });
    }
  }
  // Summary of every part's fresh outcome.
  const all = readResults();
  const rows: string[][] = [];
  const headline: Record<string, unknown> = {};
  for (const part of PARTS) {
    const p = all.parts[part.name];
    const exit = exits[part.name];
    // latest.json also holds older runs' entries: only an entry written during this suite counts.
    const fresh = p !== undefined && Date.parse(p.startedAt) >= suiteStart;
    if (!fresh) {
      rows.push([part.name, typeof exit === 'string' ? exit : `exit ${exit}, no result recorded`, '']);
      headline[part.name] = { status: 'failed', error: typeof exit === 'string' ? exit : `exit ${exit}` };
      continue;
    }
    const numbers = p.result ? headlineOf(p.result) : {};
    headline[part.name] = p.status === 'ok' ? numbers : { status: p.status, error: firstLine(p.error) };
    rows.push([part.name, p.status, p.status === 'ok' ? summaryCell(numbers) : firstLine(p.error)]);
  }
  process.stdout.write(
    `\nsuite finished in ${seconds(t0).toFixed(0)} s\n${renderTable(['part', 'status', 'headline'], rows)}\n`,
  );
  status(`report: ${resultsDir()}/latest.md`);
  process.stdout.write(`${JSON.stringify({ durationSec: Math.round(seconds(t0)), parts: headline })}\n`);
  const bad = Object.values(exits).some((e) => e !== 0);
  return bad ? 1 : 0;
}

/** Runs `run.js <part> <suite args>` under --expose-gc with a time cap; stdout and stderr pass through. */
function runChild(part: PartInfo, capSec: number): Promise<number | string> {
  const script = fileURLToPath(import.meta.url);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', script, part.name, ...part.suiteArgs], {
      stdio: 'inherit',
      env: { ...process.env, BENCH_SUITE: '1' },
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(`killed after ${capSec.toFixed(0)} s (suite time cap)`);
    }, capSec * 1000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code ?? 1);
    });
  });
}

/** Top-level numbers of a result: the scalars a reader compares first. */
function headlineOf(result: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(result)) {
    if (typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  }
  return out;
}

function summaryCell(numbers: Record<string, unknown>): string {
  return Object.entries(numbers)
    .slice(0, 4)
    .map(([k, v]) => `${k}=${formatValue(v)}`)
    .join(' ');
}

function printHelp(): void {
  const lines = [
    'usage: npm run bench                    run every part (about 15 min on 2 cores)',
    '       npm run bench -- <part> [flags]  run one part; its last stdout line is one JSON object',
    '',
    'parts:',
    ...PARTS.map((p) => `  ${p.name.padEnd(12)} ${p.what}`),
    '',
    'results: bench/results/latest.json, latest.md, *.svg',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function seconds(t0: number): number {
  return (performance.now() - t0) / 1000;
}

function firstLine(s: string | undefined): string {
  return (s ?? '').split('\n')[0];
}

// Run when executed, not when imported (tests may import the module).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
