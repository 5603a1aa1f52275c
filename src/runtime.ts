/**
 * The V8 flags the persistence workers run with, in one place.
 *
 * `--max-semi-space-size=64` (MiB; V8's default tops out at 16): a worker decodes a job into many
 * short-lived objects (events, rows, column arrays, array literals) that are all still alive at the next
 * scavenge with the default young generation, so they are copied and promoted, and the old generation then
 * pays to collect them. A larger young generation lets them die young. Measured in the persistence bench on
 * the 2-core machine: +15-20% fills/s.
 *
 * The server does not use it. In its process the engine's throughput gains too (risk-on mixed flow +20%,
 * A/B in alternating processes), but each scavenge of the larger young generation copies more live objects
 * (commands waiting for their batch, pending replies), and durable ack latency pays: p99 23 ms against
 * 13 ms at the default, three alternating runs each of `npm run bench -- e2e`, while fast-mode throughput
 * rose 25%. Ack latency is what traders see, so the server keeps V8's default.
 *
 * `npm start` (which forks the workers), `npm run worker`, docker-compose.yml's workers and the persistence
 * bench pass them; a worker started without them says so in its log.
 */
export const WORKER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];

/** The node flags this process was started with: on the command line, then in NODE_OPTIONS. */
export function givenNodeFlags(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): string[] {
  return [...execArgv, ...nodeOptions.split(/\s+/)].filter((f) => f.startsWith('--'));
}

/** The flags of `wanted` this process was not started with (neither on the command line nor NODE_OPTIONS). */
export function missingNodeFlags(
  wanted: readonly string[] = WORKER_NODE_FLAGS,
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): string[] {
  const given = new Set(givenNodeFlags(execArgv, nodeOptions).map((f) => f.split('=')[0]));
  return wanted.filter((f) => !given.has(f.split('=')[0]));
}
