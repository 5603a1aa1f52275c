/**
 * End to end over WebSocket: many connections on loopback, the load generated in worker threads (so it does
 * not share the server's thread), orders acked per second and ack latency (p50, p99, p99.9, max; HDR
 * histogram, measured by the client from send to ack) in durable and fast commit mode.
 *
 *   npm run bench -- e2e [--seconds 5] [--warmup 1] [--modes durable,fast|none] [--workers 1]
 *                        [--fast-connections 64] [--fast-window 32] [--durable-connections 32] [--durable-window 4]
 *                        [--batcher bullmq|memory] [--risk on|off] [--latency-rate 20000|0]
 *   node dist/bench/e2e.js [same flags]
 *
 * Workload: every connection has its own funded account and keeps `window` orders in flight (closed loop):
 * half passive GTC limit orders 1-20 ticks behind the mid on alternating sides, half IOC limit orders that
 * cross up to 10 ticks, so the book stays bounded and about a third of the orders trade. The server runs
 * the real product path: risk core on, the BullMQ output batcher (durable: acks after the job is in Redis;
 * fast: before). The bench's queue is its own and is drained while the run goes (no persistence workers
 * run here; bench/persistence measures those).
 *
 * Durable latency is measured with few orders in flight: in a closed loop, latency = in-flight / rate, so
 * a deep window measures queueing, not the system. A third run is durable at a fixed offered rate, 20,000
 * orders/s by default (`--latency-rate N`, 0 to skip): open loop, its latencies counted from when each
 * order was due (no coordinated omission). Its tail shows stalls that the closed loop hides.
 *
 * Last stdout line: {"fastOrdersPerSec", "durableOrdersPerSec", "durableP50Ms", "durableP99Ms", ...}.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Queue } from 'bullmq';
import * as hdr from 'hdr-histogram-js';
import WebSocket from 'ws';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/log.js';
import { authParams } from '../src/protocol/sign.js';
import { ExchangeServer } from '../src/server.js';
import { Flags } from './lib/args.js';
import { benchPerpetual } from './lib/perpetual.js';

const SYMBOL = 'BENCH-PERP';
const MID_TICKS = 20_000; // tick 0.5 -> mid price 10000
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Cred {
  apiKey: string;
  secret: string;
}

interface LoadJob {
  role: 'e2e-load';
  url: string;
  creds: Cred[];
  window: number;
  /** Orders per second for this worker's connections together, open loop; 0: closed loop with `window`. */
  rate: number;
  warmupMs: number;
  measureMs: number;
  seed: number;
}

interface LoadResult {
  /** Share of the load generator's thread spent working while measuring (near 1: the generator limits). */
  elu: number;
  acks: number;
  errors: number;
  errorCodes: Record<string, number>;
  histogram: string;
}

// ---- the load generator (worker thread) ---------------------------------------------------------------

function priceString(ticks: number): string {
  return ticks % 2 === 0 ? String(ticks / 2) : `${(ticks - 1) / 2}.5`;
}

async function runLoad(job: LoadJob): Promise<LoadResult> {
  const hist = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  let rng = job.seed >>> 0 || 1;
  const rand = () => {
    rng ^= rng << 13;
    rng ^= rng >>> 17;
    rng ^= rng << 5;
    return (rng >>> 0) / 4294967296;
  };
  // Pre-built parameter strings: the generator must cost far less than the server it measures.
  const orders: string[] = [];
  for (let i = 0; i < 4096; i++) {
    const buy = i % 2 === 0;
    const passive = rand() < 0.5;
    const off = 1 + Math.floor(rand() * (passive ? 20 : 10));
    const ticks = passive
      ? buy
        ? MID_TICKS - off
        : MID_TICKS + off
      : buy
        ? MID_TICKS + off
        : MID_TICKS - off;
    orders.push(
      `","method":"place","params":{"symbol":"${SYMBOL}","side":"${buy ? 'BUY' : 'SELL'}","orderType":"LIMIT","timeInForce":"${passive ? 'GTC' : 'IOC'}","price":"${priceString(ticks)}","quantity":"0.001"}}`,
    );
  }
  let measuring = false;
  let stopping = false;
  let acks = 0;
  let errors = 0;
  const errorCodes: Record<string, number> = {};
  const sockets: WebSocket[] = [];
  const senders: ((dueAt: number) => void)[] = [];

  await Promise.all(
    job.creds.map(
      (cred, ci) =>
        new Promise<void>((resolve, reject) => {
          const ws = new WebSocket(job.url, { perMessageDeflate: false });
          sockets.push(ws);
          const sentAt = new Float64Array(1 << 16);
          let nextId = 1;
          let k = ci * 97;
          let corked = false;
          const raw = () => (ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
          const send = () => {
            const id = nextId++;
            sentAt[id & 0xffff] = performance.now();
            ws.send(`{"id":"${id}${orders[k++ & 4095]}`);
          };
          ws.on('error', reject);
          ws.on('open', () =>
            ws.send(
              JSON.stringify({ id: 'auth', method: 'auth', params: authParams(cred.apiKey, cred.secret) }),
            ),
          );
          ws.on('message', (data: Buffer) => {
            // Replies start with {"id":"<n>",: read the id without parsing the whole ack.
            const s = data.toString('latin1', 0, 40);
            if (s.startsWith('{"id":"auth"')) {
              if (!s.includes('"result"')) reject(new Error(`auth failed: ${data.toString()}`));
              else resolve();
              return;
            }
            const end = s.indexOf('"', 7);
            const id = Number(s.slice(7, end));
            const isError = s.startsWith('"error"', end + 2);
            if (measuring) {
              if (isError) {
                errors++;
                const m = /"code":"([A-Z_]+)"/.exec(data.toString());
                const code = m?.[1] ?? 'UNKNOWN';
                errorCodes[code] = (errorCodes[code] ?? 0) + 1;
              } else acks++;
              hist.recordValue(Math.max(1, Math.round((performance.now() - sentAt[id & 0xffff]!) * 1000)));
            }
            if (stopping || job.rate > 0) return;
            // Answers arrive in bursts (one per released batch): send the replacements in one write.
            if (!corked) {
              corked = true;
              raw().cork();
              setImmediate(() => {
                corked = false;
                raw().uncork();
              });
            }
            send();
          });
          // Open loop: the worker's pacer calls this with the time the order was due.
          senders.push((dueAt: number) => {
            const id = nextId++;
            sentAt[id & 0xffff] = dueAt;
            ws.send(`{"id":"${id}${orders[k++ & 4095]}`);
          });
          (ws as unknown as { startLoad: () => void }).startLoad = () => {
            if (job.rate <= 0) for (let i = 0; i < job.window; i++) send();
          };
        }),
    ),
  );
  for (const ws of sockets) (ws as unknown as { startLoad: () => void }).startLoad();
  if (job.rate > 0) {
    // Open loop at a fixed rate, spread evenly over the connections in turn: latency counts from when each
    // order was due, not from when it went out, so a stalled server cannot hide its stall (coordinated
    // omission).
    const perMs = job.rate / 1000;
    const t0 = performance.now();
    let sent = 0;
    const pacer = setInterval(() => {
      if (stopping) {
        clearInterval(pacer);
        return;
      }
      const due = Math.floor((performance.now() - t0) * perMs);
      while (sent < due) {
        // Order number `sent` fell due when `sent + 1` orders were due.
        senders[sent % senders.length]!(t0 + (sent + 1) / perMs);
        sent++;
      }
    }, 1);
  }
  await new Promise((r) => setTimeout(r, job.warmupMs));
  measuring = true;
  const elu0 = performance.eventLoopUtilization();
  await new Promise((r) => setTimeout(r, job.measureMs));
  measuring = false;
  const elu = performance.eventLoopUtilization(elu0).utilization;
  stopping = true;
  for (const ws of sockets) ws.terminate();
  return { elu, acks, errors, errorCodes, histogram: hdr.encodeIntoCompressedBase64(hist) };
}

if (!isMainThread && (workerData as LoadJob | undefined)?.role === 'e2e-load') {
  runLoad(workerData as LoadJob).then(
    (r) => parentPort!.postMessage(r),
    (e: unknown) => parentPort!.postMessage({ error: String(e) }),
  );
}

// ---- the server side (main thread) --------------------------------------------------------------------

interface ModeResult {
  mode: 'durable' | 'fast';
  connections: number;
  window: number;
  ordersPerSec: number;
  errors: number;
  errorCodes: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  meanMs: number;
  uws: string;
  /** Share of the server thread's time spent working during the measurement (1 = saturated). */
  serverEventLoopUtilization: number;
  serverUsPerOrder: number;
  commandsPerBatch: number;
  loadGeneratorUtilization: number;
}

async function runMode(
  mode: 'durable' | 'fast',
  batcher: 'bullmq' | 'memory',
  connections: number,
  window: number,
  workers: number,
  seconds: number,
  warmup: number,
  risk: boolean,
  rate = 0,
): Promise<ModeResult> {
  const queueName = `bench-e2e-${randomBytes(4).toString('hex')}`;
  const config = loadConfig(
    [],
    {},
    {
      host: '127.0.0.1',
      port: 0,
      adminHost: '127.0.0.1',
      adminPort: 0,
      adminToken: randomBytes(16).toString('hex'),
      batcher,
      commitMode: mode,
      queueName,
      redisUrl: REDIS_URL,
      logLevel: 'silent',
      risk,
      maxOpenOrders: 1_000_000,
      connRateBurst: 10_000_000,
      connRatePerSec: 10_000_000,
      accountRateBurst: 10_000_000,
      accountRatePerSec: 10_000_000,
    },
  );
  const server = new ExchangeServer({ config, log: silentLogger });
  await server.start();
  const op = server.operator;
  await op.command({ ...benchPerpetual(SYMBOL, 'BTC') });
  const creds: Cred[] = [];
  for (let i = 0; i < connections; i++) {
    const u = await op.command({ type: 'create_user', name: `bench-${i}`, email: null });
    const userId = (u.events.find((e) => e.type === 'user_created') as { userId: number }).userId;
    if (!risk) {
      // A bare matching engine has no account records: the key names the account the orders carry.
      const k = await op.createApiKey(userId, [i + 1], 'bench');
      creds.push({ apiKey: k.apiKey, secret: k.secret });
      continue;
    }
    const a = await op.command({
      type: 'open_account',
      userId,
      currency: 'USD',
      maxLeverage: '10',
      marginEnabled: true,
      autoLiquidation: false,
    });
    const accountId = (a.events.find((e) => e.type === 'account') as { accountId: number }).accountId;
    // 10 million: ample for orders of 10 USD each, and, like almost every real account, below 2^53 units
    // (about 90 million), where amounts are plain numbers; 100 million (until 2026-11-25) took the exact
    // bigint path on every amount of every order (engine/units.ts).
    await op.command({ type: 'deposit', accountId, amount: '10000000' });
    const k = await op.createApiKey(userId, [], 'bench');
    creds.push({ apiKey: k.apiKey, secret: k.secret });
  }

  // Nobody consumes the bench's queue: drop its waiting jobs as the run goes so Redis memory stays small.
  const queue = batcher === 'bullmq' ? new Queue(queueName, { connection: { url: REDIS_URL } }) : null;
  const trim = queue ? setInterval(() => void queue.drain().catch(() => {}), 500) : null;

  const url = `ws://127.0.0.1:${server.port}/ws`;
  let elu = performance.eventLoopUtilization();
  const eluTimer = setTimeout(
    () => {
      elu = performance.eventLoopUtilization();
    },
    (warmup + 0.5) * 1000,
  );
  let serverElu = 0;
  const eluEnd = setTimeout(
    () => {
      serverElu = performance.eventLoopUtilization(elu).utilization;
    },
    (warmup + seconds - 0.2) * 1000,
  );
  const per = Math.ceil(connections / workers);
  const file = fileURLToPath(import.meta.url);
  const results = await Promise.all(
    Array.from({ length: workers }, (_, w) => {
      const job: LoadJob = {
        role: 'e2e-load',
        url,
        creds: creds.slice(w * per, (w + 1) * per),
        window,
        rate: rate / workers,
        warmupMs: warmup * 1000,
        measureMs: seconds * 1000,
        seed: 12345 + w,
      };
      return new Promise<LoadResult>((resolve, reject) => {
        const worker = new Worker(file, { workerData: job });
        worker.once('message', (m: LoadResult & { error?: string }) => {
          void worker.terminate();
          if (m.error) reject(new Error(m.error));
          else resolve(m);
        });
        worker.once('error', reject);
      });
    }),
  );
  const commandsPerBatch = server.metrics.batchCommands.get() / Math.max(1, server.metrics.batches.get());
  if (trim) clearInterval(trim);
  clearTimeout(eluTimer);
  clearTimeout(eluEnd);
  await server.stop();
  if (queue) {
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
  }

  const hist = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  let acks = 0;
  let errors = 0;
  const errorCodes: Record<string, number> = {};
  for (const r of results) {
    acks += r.acks;
    errors += r.errors;
    for (const [c, n] of Object.entries(r.errorCodes)) errorCodes[c] = (errorCodes[c] ?? 0) + n;
    hist.add(hdr.decodeFromCompressedBase64(r.histogram));
  }
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    mode,
    connections,
    window,
    // Engine refusals (e.g. an IOC with nothing to take is not one: it is acked) count as answered orders.
    ordersPerSec: Math.round((acks + errors) / seconds),
    errors,
    errorCodes,
    p50Ms: ms(hist.getValueAtPercentile(50)),
    p99Ms: ms(hist.getValueAtPercentile(99)),
    p999Ms: ms(hist.getValueAtPercentile(99.9)),
    maxMs: ms(hist.maxValue),
    meanMs: ms(hist.mean),
    uws: (await import('../src/gateway/ws-server.js')).uwsImplementation(),
    serverEventLoopUtilization: Math.round(serverElu * 100) / 100,
    // Server thread time per answered order: less sensitive than the rate to other load on the machine.
    commandsPerBatch: Math.round(commandsPerBatch * 10) / 10,
    loadGeneratorUtilization: Math.round(Math.max(...results.map((r) => r.elu)) * 100) / 100,
    serverUsPerOrder: acks + errors > 0 ? Math.round((serverElu * seconds * 1e6) / (acks + errors)) : 0,
  };
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const f = new Flags(args);
  const seconds = f.num('seconds', 5);
  const warmup = f.num('warmup', 1);
  // `--modes none`: only the open-loop run (with --latency-rate).
  const modes = f
    .str('modes', 'durable,fast')
    .split(',')
    .filter((m) => m !== 'none') as ('durable' | 'fast')[];
  const workers = f.int('workers', 1, 1);
  const batcher = f.str('batcher', 'bullmq') as 'bullmq' | 'memory';
  const fastConnections = f.int('fast-connections', 64, 1);
  const fastWindow = f.int('fast-window', 32, 1);
  const durableConnections = f.int('durable-connections', 32, 1);
  const durableWindow = f.int('durable-window', 4, 1);
  const risk = f.str('risk', 'on') !== 'off';
  // On by default: the closed-loop runs show throughput, this one what a steady trader sees (0: off).
  const latencyRate = f.int('latency-rate', 20_000, 0);
  f.done();
  const out: Record<string, unknown> = {
    workload: `limit GTC/IOC mix, one instrument, risk ${risk ? 'on' : 'off'}`,
    batcher,
    seconds,
  };
  for (const mode of modes) {
    const durable = mode === 'durable';
    process.stderr.write(`e2e: ${mode} mode, ${seconds}s...\n`);
    const r = await runMode(
      mode,
      batcher,
      durable ? durableConnections : fastConnections,
      durable ? durableWindow : fastWindow,
      workers,
      seconds,
      warmup,
      risk,
    );
    process.stderr.write(`e2e: ${mode}: ${JSON.stringify(r)}\n`);
    out[`${mode}OrdersPerSec`] = r.ordersPerSec;
    out[`${mode}P50Ms`] = r.p50Ms;
    out[`${mode}P99Ms`] = r.p99Ms;
    out[`${mode}P999Ms`] = r.p999Ms;
    out[`${mode}MaxMs`] = r.maxMs;
    out[`${mode}Errors`] = r.errors;
    out[`${mode}Connections`] = r.connections;
    out[`${mode}Window`] = r.window;
    out[`${mode}ServerUsPerOrder`] = r.serverUsPerOrder;
    out[`${mode}ServerUtilization`] = r.serverEventLoopUtilization;
    out.uws = r.uws;
  }
  if (latencyRate > 0) {
    // Durable latency at a fixed offered rate (open loop, coordinated-omission corrected): what a trader
    // sees when the exchange is not saturated.
    process.stderr.write(`e2e: durable at ${latencyRate} orders/s, ${seconds}s...\n`);
    const r = await runMode(
      'durable',
      batcher,
      durableConnections,
      0,
      workers,
      seconds,
      warmup,
      risk,
      latencyRate,
    );
    process.stderr.write(`e2e: durable at rate: ${JSON.stringify(r)}\n`);
    out.durableAtRateOffered = latencyRate;
    out.durableAtRateOrdersPerSec = r.ordersPerSec;
    out.durableAtRateP50Ms = r.p50Ms;
    out.durableAtRateP99Ms = r.p99Ms;
    out.durableAtRateP999Ms = r.p999Ms;
    out.durableAtRateMaxMs = r.maxMs;
  }
  return out;
}

if (
  isMainThread &&
  process.argv[1] !== undefined &&
  import.meta.url === pathToFileURL(process.argv[1]).href
) {
  run(process.argv.slice(2)).then(
    (r) => {
      process.stdout.write(`${JSON.stringify(r)}\n`);
      process.exit(0);
    },
    (e: unknown) => {
      process.stderr.write(`e2e bench failed: ${e instanceof Error ? e.stack : String(e)}\n`);
      process.exit(1);
    },
  );
}
