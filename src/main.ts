/**
 * Entry point of `npm start` (node dist/src/main.js): reads the configuration, starts the server, stops it
 * gracefully on SIGINT/SIGTERM.
 */
import { ConfigError, configHelp, loadConfig, redactedConfig } from './config.js';
import { createLogger } from './log.js';
import { ExchangeServer } from './server.js';

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    process.stdout.write(`${configHelp()}\n`);
    return;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`configuration error: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const log = createLogger(config.logLevel);
  log.info({ config: redactedConfig(config) }, 'starting');
  const server = new ExchangeServer({ config, log });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'signal received');
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  try {
    await server.start();
  } catch (err) {
    log.fatal({ err: String(err) }, 'cannot start');
    process.exit(1);
  }
}

void main();
