import { assertUsableDataDir, ConfigError, loadConfig } from '@app/config';
import { startServer } from './bootstrap';
import { runMigrateLog } from './migrate-log.command';

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
  const showToken = (secret: string) =>
    process.stdout.write(
      `\n  ADMIN_TOKEN was not set: generated an admin token. It is shown once and stored only as a hash:\n\n    ${secret}\n\n`,
    );
  const { url, generatedAdminToken, adminTokenStoredEarlier } = await startServer(config, { onGeneratedAdminToken: showToken });
  // Printed after the start-up log has drained, so it is the last thing on the screen.
  process.stdout.write(`\nSCIM server listening on ${url} (event store: ${config.eventStore}, data: ${config.dataDir})\n`);
  process.stdout.write(`  instance SCIM base: ${url}/api/scim/v2/application\n`);
  process.stdout.write(`  console:            ${url}/console/   API description: ${url}/api/docs\n`);
  if (generatedAdminToken) showToken(generatedAdminToken);
  else if (adminTokenStoredEarlier) {
    process.stdout.write(
      '  ADMIN_TOKEN is not set; the admin token generated on the first start was shown then and is stored only as a hash.\n' +
        '  Lost it? Restart with ADMIN_TOKEN set (at least 16 characters, e.g. ADMIN_TOKEN=$(openssl rand -hex 24)),\n' +
        '  then list and revoke the old one: scimctl tokens list, scimctl tokens revoke <id>.\n',
    );
  }
}

function failedToStart(err: unknown): never {
  const code = (err as { code?: unknown })?.code;
  const listening = (err as { syscall?: unknown })?.syscall === 'listen';
  if (code === 'EADDRINUSE' || (code === 'EACCES' && listening)) {
    // One line an operator can act on; no admin token was generated or stored.
    process.stderr.write(`Failed to start: cannot listen on ${process.env.HOST ?? ''}:${process.env.PORT ?? ''} (${String(code)}: ${(err as Error).message}). Set PORT to a free port.\n`);
    process.exit(1);
  }
  // The store refusing its files (read-only, vanished, full) is a setting to fix, not a bug:
  // one line and the configuration exit code, as for any other bad setting.
  if (typeof code === 'string' && STORE_SETTING_ERRORS.test(code)) {
    process.stderr.write(`Failed to start: the store in DATA_DIR cannot be used (${code}: ${(err as Error).message})\n`);
    process.exit(78);
  }
  process.stderr.write(`Failed to start: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
}

const STORE_SETTING_ERRORS = /^(SQLITE_(CANTOPEN|READONLY|FULL|IOERR|PERM|NOTADB)\w*|EACCES|EROFS|ENOSPC|ENOTDIR|EISDIR|EPERM)$/;

if (process.argv[2] === 'migrate-log') {
  void runMigrateLog(process.argv.slice(3)).then((code) => process.exit(code));
} else {
  main().catch(failedToStart);
}
