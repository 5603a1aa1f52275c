/**
 * The V8 flags every process of the product runs with (server, workers, benchmarks), in one place.
 *
 * `--max-semi-space-size=64` (MiB; V8's default tops out at 16): the engine, the batcher and the workers
 * allocate many short-lived objects per command (events, their decimal strings, bigint temporaries, job
 * payloads). With the default young generation a batch's objects are still alive at the next scavenge, so
 * they are copied and promoted, and the old generation then pays to collect them. A larger young generation
 * lets them die young. Measured on the 2-core machine, A/B in alternating processes: the risk-on mixed flow
 * +20% (95-110k -> 115-131k ops/s), risk off +10-25%, the persistence pipeline +15-20% fills/s. It costs
 * up to ~200 MiB of address space for the young generation per process.
 *
 * `npm start`, `npm run worker`, the Docker image (NODE_OPTIONS) and `npm run bench` pass them; a process
 * started some other way runs, slower, without them, and the server says so in its log at start.
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];

/** The flags of NODE_FLAGS this process was not started with (neither on the command line nor NODE_OPTIONS). */
export function missingNodeFlags(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): string[] {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)].map((f) => f.split('=')[0]));
  return NODE_FLAGS.filter((f) => !given.has(f.split('=')[0]));
}
