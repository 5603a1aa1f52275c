/**
 * A persistence worker in its own process, for the test that kills one with SIGKILL in the middle of a job.
 * With HANG_AFTER=<table>, it stops dead right after the statement that writes that table's rows of its
 * first job has run (the batch is committed, the job not acknowledged), and says "hanging" on stdout: the
 * parent then kills it at exactly that point, and the job must run again without doubling anything.
 */
import { Redis } from 'ioredis';
import type { Interceptor } from 'slonik';
import { PersistenceWorker } from '../../persistence/worker.js';

const hangAfter = process.env.HANG_AFTER;
let hung = false;
const interceptors: Interceptor[] = [];
if (hangAfter) {
  interceptors.push({
    name: 'hang',
    afterQueryExecution: async (_context, query) => {
      if (!hung && query.sql.includes(`INSERT INTO "${hangAfter}"`)) {
        hung = true;
        process.stdout.write('hanging\n');
        await new Promise(() => {});
      }
      return null;
    },
  });
}

const connection = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
new PersistenceWorker({
  databaseUrl: process.env.DATABASE_URL!,
  poolOptions: { interceptors, applicationName: 'exch-child' },
  connection,
  queueName: process.env.QUEUE_NAME!,
  concurrency: 1,
  lockDuration: 2000,
  stalledInterval: 1000,
});
process.stdout.write('ready\n');
