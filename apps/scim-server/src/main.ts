import { ConfigError, loadConfig } from '@app/config';
import { startServer } from './bootstrap';
import { runMigrateLog } from './migrate-log.command';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  const { url, generatedAdminToken } = await startServer(config);
  process.stdout.write(`SCIM server listening on ${url} (event store: ${config.eventStore}, data: ${config.dataDir})\n`);
  process.stdout.write(`  instance SCIM base: ${url}/api/scim/v2/application\n`);
  if (generatedAdminToken) {
    process.stdout.write(
      `  ADMIN_TOKEN was not set: generated an admin token. It is shown once and stored only as a hash:\n\n    ${generatedAdminToken}\n\n`,
    );
  }
}

if (process.argv[2] === 'migrate-log') {
  void runMigrateLog(process.argv.slice(3)).then((code) => process.exit(code));
} else {
  main().catch((err: unknown) => {
    process.stderr.write(`Failed to start: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  });
}
