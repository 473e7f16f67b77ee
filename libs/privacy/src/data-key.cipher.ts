import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** What a sealed value looks like in the stored log: a string no client value can be confused with after erasure. */
export const SEALED_PREFIX = 'pii:v1:';
/** What an opened value reads as once its person's key is destroyed. */
export const ERASED = '[erased]';

const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;

export function isSealed(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(SEALED_PREFIX);
}

/** AES-256-GCM: authenticated, so a flipped bit or a value moved to another event (other `aad`) fails to open. */
export function sealValue(key: Buffer, aad: string, value: unknown): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return SEALED_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64url');
}

/** The value `sealValue` sealed; throws when the key, the `aad` or the bytes are not the sealing ones. */
export function openValue(key: Buffer, aad: string, sealed: string): unknown {
  const raw = Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  const pt = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  return JSON.parse(pt.toString('utf8')) as unknown;
}

/** A data key wrapped by the master key, bound to its person (`aad`): `iv‖tag‖ciphertext`. */
export function wrapKey(master: Buffer, personId: string, dataKey: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', master, iv);
  cipher.setAAD(Buffer.from(`data-key|${personId}`, 'utf8'));
  const ct = Buffer.concat([cipher.update(dataKey), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ct]);
}

export function unwrapKey(master: Buffer, personId: string, wrapped: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', master, wrapped.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(`data-key|${personId}`, 'utf8'));
  decipher.setAuthTag(wrapped.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  return Buffer.concat([decipher.update(wrapped.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
}

export function newDataKey(): Buffer {
  return randomBytes(KEY_BYTES);
}
