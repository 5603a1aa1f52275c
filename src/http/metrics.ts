/**
 * A tiny Prometheus registry: counters (optionally with one label), gauges read at scrape time, and
 * fixed-bucket histograms. Recording is a few array writes, so it can sit on the hot path; rendering the
 * text format happens only when /metrics is scraped.
 */

export class Counter {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly label?: string,
  ) {}
  inc(labelValue = '', by = 1): void {
    this.values.set(labelValue, (this.values.get(labelValue) ?? 0) + by);
  }
  get(labelValue = ''): number {
    return this.values.get(labelValue) ?? 0;
  }
  render(): string {
    let s = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} counter\n`;
    if (this.values.size === 0 && !this.label) s += `${this.name} 0\n`;
    for (const [k, v] of this.values) {
      s += this.label ? `${this.name}{${this.label}="${k}"} ${v}\n` : `${this.name} ${v}\n`;
    }
    return s;
  }
}

/** A value read at scrape time: a gauge, or a counter kept elsewhere (a running total). */
export class Gauge {
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => number,
    private readonly type: 'gauge' | 'counter' = 'gauge',
  ) {}
  render(): string {
    return `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} ${this.type}\n${this.name} ${this.read()}\n`;
  }
}

/** Buckets in seconds, as Prometheus expects; observations in microseconds to keep callers integer. */
export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;
  private readonly boundsUs: number[];
  constructor(
    readonly name: string,
    readonly help: string,
    readonly bucketsSec: readonly number[] = [
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
    ],
  ) {
    this.counts = new Array(bucketsSec.length).fill(0);
    this.boundsUs = bucketsSec.map((b) => b * 1e6);
  }
  observeUs(us: number): void {
    this.sum += us;
    this.count++;
    const b = this.boundsUs;
    for (let i = 0; i < b.length; i++) {
      if (us <= b[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }
  render(): string {
    let s = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} histogram\n`;
    let cum = 0;
    for (let i = 0; i < this.bucketsSec.length; i++) {
      cum += this.counts[i]!;
      s += `${this.name}_bucket{le="${this.bucketsSec[i]}"} ${cum}\n`;
    }
    s += `${this.name}_bucket{le="+Inf"} ${this.count}\n${this.name}_sum ${this.sum / 1e6}\n${this.name}_count ${this.count}\n`;
    return s;
  }
}

export class Metrics {
  readonly commands = new Counter('exchange_commands_total', 'Commands sequenced, by type', 'type');
  readonly rejects = new Counter('exchange_rejects_total', 'Engine rejections, by reason', 'reason');
  readonly gatewayErrors = new Counter(
    'exchange_gateway_errors_total',
    'Requests refused by the gateway, by code',
    'code',
  );
  readonly batches = new Counter('exchange_batches_released_total', 'Output batches released to clients');
  readonly batchCommands = new Counter('exchange_batch_commands_total', 'Commands in released batches');
  readonly connectionsOpened = new Counter(
    'exchange_connections_opened_total',
    'WebSocket connections opened',
  );
  readonly slowConsumers = new Counter(
    'exchange_slow_consumer_disconnects_total',
    'Sockets closed for backpressure',
  );
  readonly ackLatency = new Histogram(
    'exchange_ack_latency_seconds',
    'Request received to reply sent (engine commands)',
  );
  readonly releaseLatency = new Histogram(
    'exchange_release_latency_seconds',
    'Command sequenced to its batch released (queue lag)',
  );
  private readonly gauges: Gauge[] = [];

  gauge(name: string, help: string, read: () => number): void {
    this.gauges.push(new Gauge(name, help, read));
  }

  /** A running total kept elsewhere, read at scrape time (Prometheus type counter; name ends in _total). */
  counterOf(name: string, help: string, read: () => number): void {
    this.gauges.push(new Gauge(name, help, read, 'counter'));
  }

  render(): string {
    const parts = [
      this.commands,
      this.rejects,
      this.gatewayErrors,
      this.batches,
      this.batchCommands,
      this.connectionsOpened,
      this.slowConsumers,
      this.ackLatency,
      this.releaseLatency,
      ...this.gauges,
    ];
    return parts.map((p) => p.render()).join('');
  }
}
