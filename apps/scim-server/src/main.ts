import { assertUsableDataDir, ConfigError, loadConfig } from '@app/config';
import { startServer } from './bootstrap';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
    assertUsableDataDir(config.dataDir);
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

main().catch((err: unknown) => {
  // The store refusing its files (read-only, vanished, full) is a setting to fix, not a bug:
  // one line and the configuration exit code, as for any other bad setting.
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && STORE_SETTING_ERRORS.test(code)) {
    process.stderr.write(`Failed to start: the store in DATA_DIR cannot be used (${code}: ${(err as Error).message})\n`);
    process.exit(78);
  }
  process.stderr.write(`Failed to start: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});

const STORE_SETTING_ERRORS = /^(SQLITE_(CANTOPEN|READONLY|FULL|IOERR|PERM|NOTADB)\w*|EACCES|EROFS|ENOSPC|ENOTDIR|EISDIR|EPERM)$/;
