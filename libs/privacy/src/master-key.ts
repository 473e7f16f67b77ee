import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { KEY_BYTES } from './data-key.cipher';

export interface MasterKey {
  readonly key: Buffer;
  /** A hash prefix naming the key (never the key): stored beside each wrapped data key. */
  readonly id: string;
}

export function masterKeyOf(key: Buffer): MasterKey {
  if (key.length !== KEY_BYTES) throw new Error(`a data-key master key is ${KEY_BYTES} bytes (base64 in DATA_KEY_MASTER), got ${key.length}`);
  return { key, id: createHash('sha256').update('data-key-master|').update(key).digest('hex').slice(0, 16) };
}

export function parseMasterKey(base64: string): MasterKey {
  return masterKeyOf(Buffer.from(base64.trim(), 'base64'));
}

export function masterKeyFile(dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.DATA_KEY_MASTER_FILE || join(dataDir, 'data-key-master.key');
}

/**
 * The master key that wraps every data key: `DATA_KEY_MASTER` (base64), else the key file,
 * generated on first start (mode 0600) as the audit signing key is. The key file belongs with
 * the secrets, not with the data: whoever holds it and the key store opens every live key.
 */
export function loadMasterKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): { current: MasterKey; previous?: MasterKey } {
  const previous = env.DATA_KEY_MASTER_PREVIOUS ? parseMasterKey(env.DATA_KEY_MASTER_PREVIOUS) : undefined;
  if (env.DATA_KEY_MASTER) return { current: parseMasterKey(env.DATA_KEY_MASTER), ...(previous ? { previous } : {}) };
  const file = masterKeyFile(dataDir, env);
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${randomBytes(KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
  }
  return { current: parseMasterKey(readFileSync(file, 'utf8')), ...(previous ? { previous } : {}) };
}
