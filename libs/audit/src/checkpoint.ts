import { createHash, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { canonical } from './hash-chain';

export interface Checkpoint {
  readonly scope: string;
  /** Global position of the last event the checkpoint covers. */
  readonly position: string;
  /** Number of events in the scope's chain up to and including it. */
  readonly count: number;
  readonly headHash: string;
  readonly time: string;
}

export interface SignedCheckpoint extends Checkpoint {
  readonly keyId: string;
  /** Ed25519 over the canonical JSON of the five fields above, base64. */
  readonly signature: string;
}

export function keyIdOf(publicKey: KeyObject): string {
  const raw = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(raw).digest('hex').slice(0, 16);
}

export function signCheckpoint(c: Checkpoint, privateKey: KeyObject): SignedCheckpoint {
  const body: Checkpoint = { scope: c.scope, position: c.position, count: c.count, headHash: c.headHash, time: c.time };
  const signature = sign(null, Buffer.from(canonical(body)), privateKey).toString('base64');
  return { ...body, keyId: keyIdOf(createPublicKey(privateKey)), signature };
}

export function verifyCheckpoint(c: SignedCheckpoint, publicKeyPem: string): boolean {
  const body: Checkpoint = { scope: c.scope, position: c.position, count: c.count, headHash: c.headHash, time: c.time };
  try {
    return verify(null, Buffer.from(canonical(body)), createPublicKey(publicKeyPem), Buffer.from(c.signature, 'base64'));
  } catch {
    return false;
  }
}

export function generateSigningKey(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}
