/** A persistence worker process for the crash tests (killed with SIGKILL by the parent at will). */
import { Redis } from 'ioredis';
import { PersistenceWorker } from '../../persistence/worker.js';
import { exitWithParent } from '../support/orphan.js';

exitWithParent();

const connection = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
const worker = new PersistenceWorker({
  databaseUrl: process.env.DATABASE_URL!,
  connection,
  queueName: process.env.QUEUE_NAME!,
  concurrency: 2,
  // a killed worker's job is picked up again within seconds
  lockDuration: 2000,
  stalledInterval: 1000,
  watermarkIntervalMs: 200,
  log: { info() {}, warn() {}, error: (o, m) => process.stderr.write(`worker: ${m} ${JSON.stringify(o)}\n`) },
});
worker.on('fatal', (e) => {
  process.stderr.write(`worker fatal: ${e.message}\n`);
  process.exit(1);
});
process.once('SIGTERM', () => {
  void worker.close().then(() => process.exit(0));
});
process.stdout.write('ready\n');
