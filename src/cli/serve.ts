import { isConfigError } from '../gateway/config/errors.ts';
import { loadConfig } from '../gateway/config/load.ts';
import { createGateway } from '../gateway/gateway.ts';
import { createLogger } from '../gateway/log.ts';
import { CliError } from './client.ts';

/**
 * `alchemist-perf serve [--config file]`: load the config (file, ALCHEMIST_CONFIG, env overrides),
 * start the gateway, stop gracefully on SIGTERM/SIGINT. A bad config exits with code 2 and the
 * `config error:` lines; nothing else starts.
 */
export async function serve(configPath: string | undefined): Promise<void> {
  const logger = createLogger();
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(configPath === undefined ? {} : { path: configPath });
  } catch (error) {
    if (isConfigError(error)) {
      const where = error.source ? `the config ${error.source}` : 'the configuration (environment)';
      throw new CliError(`cannot start: ${where} is invalid\n${error.message}`, 2);
    }
    throw error;
  }
  let gateway: Awaited<ReturnType<typeof createGateway>>;
  try {
    gateway = await createGateway(config, { logger });
  } catch (error) {
    throw new CliError(`cannot start the gateway: ${(error as Error).message}`);
  }
  let signals = 0;
  const stop = (signal: string) => {
    signals++;
    if (signals > 1) {
      logger.warn('second signal: exiting now', { signal });
      process.exit(1);
    }
    logger.info('stopping', { signal });
    gateway.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown failed', { error: (error as Error).message });
        process.exit(1);
      },
    );
  };
  // Registered before listening, so a signal during start-up still shuts down cleanly.
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  try {
    await gateway.start();
  } catch (error) {
    await gateway.stop();
    throw new CliError(`cannot start the gateway: ${(error as Error).message}`);
  }
}
