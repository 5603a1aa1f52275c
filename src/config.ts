/**
 * Every setting of the server, in one table: its default, its environment variable and its command-line
 * flag. `loadConfig` reads flags over env over defaults and validates everything at start, so a typo fails
 * with a message naming the setting instead of surfacing later as odd behaviour.
 */

export type CommitModeSetting = 'durable' | 'fast';
export type BatcherKind = 'bullmq' | 'memory';

export interface Config {
  host: string;
  port: number;
  adminHost: string;
  adminPort: number;
  adminToken: string;
  databaseUrl: string;
  redisUrl: string;
  queueName: string;
  commitMode: CommitModeSetting;
  batcher: BatcherKind;
  logLevel: string;
  /** Risk core on (margin, positions, ledger) or a bare matching engine. */
  risk: boolean;
  maxMessageBytes: number;
  hardMaxMessageBytes: number;
  /** Per-connection rate bucket: capacity (burst) and refill per second, in cost units. */
  connRateBurst: number;
  connRatePerSec: number;
  accountRateBurst: number;
  accountRatePerSec: number;
  maxOpenOrders: number;
  /** Unreleased commands beyond which new orders are refused (load shedding). */
  maxBacklog: number;
  /** Released commands not yet written by the workers beyond which new orders are refused (0: off). */
  maxPersistLag: number;
  /** Bytes queued for one socket beyond which it is closed as a slow consumer. */
  slowConsumerBytes: number;
  authWindowMs: number;
  idleTimeoutSec: number;
  privateBufferSize: number;
  finalOrdersRemembered: number;
  recentFillsRemembered: number;
  /** ms after its user's last connection closed that an account's gateway view is dropped (0: never). */
  accountViewIdleMs: number;
  tickerIntervalMs: number;
  shutdownTimeoutMs: number;
  keyStore: 'postgres' | 'memory';
  /** Persistence worker processes `npm start` runs beside the server (0: run them yourself). */
  workers: number;
  /**
   * Where checkpoint hashes and snapshots are taken: a replica engine on its own thread that follows the
   * persisted journal (no pause in order flow), or the live engine itself (a pause of O(state) each time).
   */
  snapshotSource: 'replica' | 'engine';
  migrate: boolean;
}

type Kind = 'string' | 'int' | 'bool' | 'enum';

interface Setting {
  key: keyof Config;
  env: string;
  flag: string;
  kind: Kind;
  def: string;
  help: string;
  values?: readonly string[];
  min?: number;
  max?: number;
  secret?: boolean;
}

export const SETTINGS: readonly Setting[] = [
  {
    key: 'host',
    env: 'HOST',
    flag: '--host',
    kind: 'string',
    def: '0.0.0.0',
    help: 'WebSocket/HTTP bind address',
  },
  {
    key: 'port',
    env: 'PORT',
    flag: '--port',
    kind: 'int',
    def: '8080',
    min: 0,
    max: 65535,
    help: 'WebSocket and /health, /metrics port (0: ephemeral)',
  },
  {
    key: 'adminHost',
    env: 'ADMIN_HOST',
    flag: '--admin-host',
    kind: 'string',
    def: '127.0.0.1',
    help: "admin HTTP bind address; keep it off the traders' network",
  },
  {
    key: 'adminPort',
    env: 'ADMIN_PORT',
    flag: '--admin-port',
    kind: 'int',
    def: '8081',
    min: 0,
    max: 65535,
    help: 'admin HTTP port (0: ephemeral)',
  },
  {
    key: 'adminToken',
    env: 'ADMIN_TOKEN',
    flag: '--admin-token',
    kind: 'string',
    def: '',
    secret: true,
    help: 'bearer token for the admin interface; at least 16 printable ASCII characters, no spaces; empty: generated and logged once at start',
  },
  {
    key: 'databaseUrl',
    env: 'DATABASE_URL',
    flag: '--database-url',
    kind: 'string',
    def: 'postgres://postgres@127.0.0.1:5432/exchange',
    secret: true,
    help: 'PostgreSQL',
  },
  {
    key: 'redisUrl',
    env: 'REDIS_URL',
    flag: '--redis-url',
    kind: 'string',
    def: 'redis://127.0.0.1:6379',
    secret: true,
    help: 'Redis for the BullMQ queue',
  },
  {
    key: 'queueName',
    env: 'QUEUE_NAME',
    flag: '--queue-name',
    kind: 'string',
    def: 'exchange-batches',
    help: 'BullMQ queue of event batches',
  },
  {
    key: 'commitMode',
    env: 'COMMIT_MODE',
    flag: '--commit-mode',
    kind: 'enum',
    def: 'durable',
    values: ['durable', 'fast'],
    help: 'durable: acks after the batch is in Redis; fast: before (unsafe, benchmarks only)',
  },
  {
    key: 'batcher',
    env: 'BATCHER',
    flag: '--batcher',
    kind: 'enum',
    def: 'bullmq',
    values: ['bullmq', 'memory'],
    help: 'memory: nothing persisted (tests, benchmarks of the gateway alone)',
  },
  {
    key: 'logLevel',
    env: 'LOG_LEVEL',
    flag: '--log-level',
    kind: 'enum',
    def: 'info',
    values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    help: 'pino level',
  },
  { key: 'risk', env: 'RISK', flag: '--risk', kind: 'bool', def: 'true', help: 'run the risk core' },
  {
    key: 'maxMessageBytes',
    env: 'MAX_MESSAGE_BYTES',
    flag: '--max-message-bytes',
    kind: 'int',
    def: '65536',
    min: 256,
    max: 16 << 20,
    help: 'larger requests are refused with MESSAGE_TOO_LARGE',
  },
  {
    key: 'hardMaxMessageBytes',
    env: 'HARD_MAX_MESSAGE_BYTES',
    flag: '--hard-max-message-bytes',
    kind: 'int',
    def: String(4 << 20),
    min: 1024,
    max: 64 << 20,
    help: 'larger frames close the connection (1009)',
  },
  {
    key: 'connRateBurst',
    env: 'CONN_RATE_BURST',
    flag: '--conn-rate-burst',
    kind: 'int',
    def: '20000',
    min: 1,
    help: 'per-connection bucket capacity, cost units (a place costs 10)',
  },
  {
    key: 'connRatePerSec',
    env: 'CONN_RATE_PER_SEC',
    flag: '--conn-rate-per-sec',
    kind: 'int',
    def: '100000',
    min: 1,
    help: 'per-connection refill, cost units per second',
  },
  {
    key: 'accountRateBurst',
    env: 'ACCOUNT_RATE_BURST',
    flag: '--account-rate-burst',
    kind: 'int',
    def: '40000',
    min: 1,
    help: 'per-account bucket capacity, cost units',
  },
  {
    key: 'accountRatePerSec',
    env: 'ACCOUNT_RATE_PER_SEC',
    flag: '--account-rate-per-sec',
    kind: 'int',
    def: '200000',
    min: 1,
    help: 'per-account refill, cost units per second',
  },
  {
    key: 'maxOpenOrders',
    env: 'MAX_OPEN_ORDERS',
    flag: '--max-open-orders',
    kind: 'int',
    def: '10000',
    min: 1,
    help: 'open orders per account',
  },
  {
    key: 'maxBacklog',
    env: 'MAX_BACKLOG',
    flag: '--max-backlog',
    kind: 'int',
    def: '200000',
    min: 100,
    help: 'commands sequenced but not yet durable beyond which new orders get UNAVAILABLE (cancels still pass)',
  },
  {
    key: 'maxPersistLag',
    env: 'MAX_PERSIST_LAG',
    flag: '--max-persist-lag',
    kind: 'int',
    def: '500000',
    min: 0,
    help: 'commands in Redis not yet written to PostgreSQL by the workers beyond which new orders get UNAVAILABLE (cancels still pass); bounds Redis memory and the lag; 0: off',
  },
  {
    key: 'slowConsumerBytes',
    env: 'SLOW_CONSUMER_BYTES',
    flag: '--slow-consumer-bytes',
    kind: 'int',
    def: String(8 << 20),
    min: 1024,
    help: 'queued bytes that close a socket as a slow consumer',
  },
  {
    key: 'authWindowMs',
    env: 'AUTH_WINDOW_MS',
    flag: '--auth-window-ms',
    kind: 'int',
    def: '5000',
    min: 100,
    max: 600000,
    help: 'accepted clock difference of a signed timestamp',
  },
  {
    key: 'idleTimeoutSec',
    env: 'IDLE_TIMEOUT_SEC',
    flag: '--idle-timeout-sec',
    kind: 'int',
    def: '32',
    min: 0,
    max: 960,
    help: 'silent connections are pinged, then closed',
  },
  {
    key: 'privateBufferSize',
    env: 'PRIVATE_BUFFER_SIZE',
    flag: '--private-buffer-size',
    kind: 'int',
    def: '2000',
    min: 1,
    help: 'private stream messages kept per account for resume',
  },
  {
    key: 'finalOrdersRemembered',
    env: 'FINAL_ORDERS_REMEMBERED',
    flag: '--final-orders-remembered',
    kind: 'int',
    def: '1000',
    min: 0,
    help: 'ended orders kept per account: order_status from memory, and their client order ids refused for reuse',
  },
  {
    key: 'recentFillsRemembered',
    env: 'RECENT_FILLS_REMEMBERED',
    flag: '--recent-fills-remembered',
    kind: 'int',
    def: '1000',
    min: 1,
    help: 'fills kept per account for recent_fills',
  },
  {
    key: 'accountViewIdleMs',
    env: 'ACCOUNT_VIEW_IDLE_MS',
    flag: '--account-view-idle-ms',
    kind: 'int',
    def: '600000',
    min: 0,
    help: "an account's memory (remembered orders, fills, stream resume buffer) is freed this long after its user's last connection closed, once persisted (0: never)",
  },
  {
    key: 'tickerIntervalMs',
    env: 'TICKER_INTERVAL_MS',
    flag: '--ticker-interval-ms',
    kind: 'int',
    def: '250',
    min: 10,
    help: 'ticker channel period',
  },
  {
    key: 'keyStore',
    env: 'KEY_STORE',
    flag: '--key-store',
    kind: 'enum',
    def: 'postgres',
    values: ['postgres', 'memory'],
    help: 'where API keys live (memory: lost at restart; tests)',
  },
  {
    key: 'workers',
    env: 'WORKERS',
    flag: '--workers',
    kind: 'int',
    def: '1',
    min: 0,
    max: 64,
    help: 'persistence worker processes started beside the server (0: run node dist/persistence/main.js yourself)',
  },
  {
    key: 'snapshotSource',
    env: 'SNAPSHOT_SOURCE',
    flag: '--snapshot-source',
    kind: 'enum',
    def: 'replica',
    values: ['replica', 'engine'],
    help: 'replica: checkpoints and snapshots from a replica engine on its own thread, following the persisted journal (order flow never pauses for them); engine: from the live engine (pauses order flow ~1 s per million resting orders)',
  },
  {
    key: 'migrate',
    env: 'MIGRATE',
    flag: '--migrate',
    kind: 'bool',
    def: 'true',
    help: 'bring the database schema up to date at start',
  },
  {
    key: 'shutdownTimeoutMs',
    env: 'SHUTDOWN_TIMEOUT_MS',
    flag: '--shutdown-timeout-ms',
    kind: 'int',
    def: '10000',
    min: 100,
    help: 'graceful shutdown limit',
  },
];

export class ConfigError extends Error {}

function parseValue(s: Setting, raw: string, source: string): unknown {
  const where = `${s.key} (${source})`;
  switch (s.kind) {
    case 'string':
      return raw;
    case 'bool':
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      throw new ConfigError(`${where}: expected true or false, got "${raw}"`);
    case 'enum':
      if (!s.values!.includes(raw)) {
        throw new ConfigError(`${where}: expected one of ${s.values!.join(', ')}, got "${raw}"`);
      }
      return raw;
    case 'int': {
      if (!/^-?\d+$/.test(raw)) throw new ConfigError(`${where}: expected an integer, got "${raw}"`);
      const n = Number(raw);
      if (s.min !== undefined && n < s.min)
        throw new ConfigError(`${where}: must be at least ${s.min}, got ${n}`);
      if (s.max !== undefined && n > s.max)
        throw new ConfigError(`${where}: must be at most ${s.max}, got ${n}`);
      return n;
    }
  }
}

/** Flags: `--port 9000` or `--port=9000`; `--help` is the caller's business. */
export function loadConfig(
  argv: readonly string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<Config> = {},
): Config {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new ConfigError(`unexpected argument "${a}"`);
    const eq = a.indexOf('=');
    if (eq > 0) flags.set(a.slice(0, eq), a.slice(eq + 1));
    else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) flags.set(a, 'true');
      else {
        flags.set(a, next);
        i++;
      }
    }
  }
  const known = new Set(SETTINGS.map((s) => s.flag));
  for (const f of flags.keys()) {
    if (!known.has(f)) throw new ConfigError(`unknown flag ${f} (see --help)`);
  }
  const out: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const flag = flags.get(s.flag);
    const fromEnv = env[s.env];
    if (flag !== undefined) out[s.key] = parseValue(s, flag, s.flag);
    else if (fromEnv !== undefined && fromEnv !== '') out[s.key] = parseValue(s, fromEnv, s.env);
    else out[s.key] = parseValue(s, s.def, 'default');
  }
  const config = { ...(out as unknown as Config), ...overrides };
  if (config.adminToken !== '' && config.adminToken.length < 16) {
    throw new ConfigError('adminToken (ADMIN_TOKEN): must be at least 16 characters');
  }
  // It travels as `Authorization: Bearer <token>`: whitespace or control characters there are trimmed or
  // refused on the way, so such a token could never be presented (and one of spaces is no secret at all).
  if (!/^[\x21-\x7e]*$/.test(config.adminToken)) {
    throw new ConfigError(
      'adminToken (ADMIN_TOKEN): only printable ASCII without spaces (it is sent in an HTTP header)',
    );
  }
  if (config.maxMessageBytes >= config.hardMaxMessageBytes) {
    throw new ConfigError('maxMessageBytes must be below hardMaxMessageBytes');
  }
  for (const url of ['databaseUrl', 'redisUrl'] as const) {
    try {
      new URL(config[url]);
    } catch {
      throw new ConfigError(`${url}: not a URL: "${config[url]}"`);
    }
  }
  return config;
}

export function configHelp(): string {
  const rows = SETTINGS.map((s) => {
    const values = s.values ? ` (${s.values.join('|')})` : '';
    return `  ${s.flag.padEnd(26)} ${s.env.padEnd(24)} default ${JSON.stringify(s.def)}${values}\n      ${s.help}`;
  });
  return `Settings (flag, environment variable, default):\n${rows.join('\n')}`;
}

/**
 * A connection URL fit for a log line: the credentials before `@`, and a `password` (or `sslpassword`,
 * `sslkey`...) given as a query parameter, as libpq and node-postgres accept it, are masked.
 */
export function redactUrl(url: string): string {
  return url
    .replace(/\/\/([^@/]*)@/, '//***@')
    .replace(/([?&](?:password|sslpassword|sslkey|sslcert|sslrootcert)=)[^&]*/gi, '$1***');
}

/** The config with secrets masked, for the start-up log line. */
export function redactedConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config };
  for (const s of SETTINGS) {
    if (!s.secret) continue;
    const v = String(config[s.key]);
    if (s.key === 'adminToken') out[s.key] = v ? '***' : '';
    else out[s.key] = redactUrl(v);
  }
  return out;
}
