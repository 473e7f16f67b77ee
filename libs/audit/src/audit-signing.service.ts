import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomUUID, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { v5 as uuidV5 } from 'uuid';
import { EVENT_STORE, type EventStore, type JsonObject, LEADER_LEASE, type LeaderLease, StreamNotFoundError, timeOrderedId } from '@app/event-store';
import { CLOCK, type Clock, eventMetadata, systemContext } from '@app/identity';
import { ProjectionRunner, ReadYourWrites } from '@app/projections';
import type { AuditHandle } from './audit.projection';
import { type BundleManifest, publicKeyEntry, type PublicKeyEntry, type SignedManifest, signManifest } from './bundle';
import { generateSigningKey, keyIdOf, signCheckpoint, type SignedCheckpoint } from './checkpoint';

/** Public keys of every instance that signs checkpoints on a shared store (outside any audit chain). */
export const AUDIT_KEYS_STREAM = 'auditSigningKeys';
/** Namespace of the key events' ids: one id per key, so a second publication is an idempotent re-append. */
const KEY_EVENT_NAMESPACE = '1b671a64-40d5-491e-99b0-da01ef5ec8a7';

interface PublicKeyInfo {
  readonly keyId: string;
  readonly algorithm: 'Ed25519';
  readonly publicKeyPem: string;
}

/**
 * Appends a public key to `auditSigningKeys`. The event id is derived from the key id, so
 * publishing a key twice (another instance, a re-run of `migrate-log`) is an idempotent re-append.
 */
export async function publishSigningKey(store: EventStore, key: PublicKeyInfo): Promise<void> {
  const time = new Date().toISOString();
  await store.append(
    AUDIT_KEYS_STREAM,
    [{ id: uuidV5(key.keyId, KEY_EVENT_NAMESPACE), type: 'AuditSigningKeyPublished', data: key as unknown as JsonObject, metadata: eventMetadata(systemContext(randomUUID(), randomUUID()), 'instance', time) }],
    'any',
  );
}

/** The key file of an instance: AUDIT_SIGNING_KEY_FILE, or the one generated into its DATA_DIR. */
export function signingKeyFile(dataDir: string): string {
  return process.env.AUDIT_SIGNING_KEY_FILE || join(dataDir, 'audit-signing-key.pem');
}

/** The public half of a key file. */
export function publicKeyOf(privateKeyPem: string | Buffer): PublicKeyInfo {
  const publicKey = createPublicKey(createPrivateKey(privateKeyPem));
  return { keyId: keyIdOf(publicKey), algorithm: 'Ed25519', publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/**
 * The Ed25519 key that signs audit checkpoints: from AUDIT_SIGNING_KEY_FILE, or generated on
 * first start into DATA_DIR (mode 0600). Checkpoints are appended as events (outside the
 * chain they certify), every AUDIT_CHECKPOINT_INTERVAL_MS and on demand, under the lease
 * `audit-checkpoints` so that several instances on one store sign each chain head once.
 *
 * On a shared store every instance may hold its own key: each publishes its public key as an
 * event before it signs anything, so any instance lists and verifies them all.
 */
@Injectable()
export class AuditSigningService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('audit');
  private privateKey!: KeyObject;
  publicKeyPem!: string;
  keyId!: string;
  private timer?: NodeJS.Timeout;
  /** This instance's public key is in the store (shared stores only). */
  private published = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly runner: ProjectionRunner,
    private readonly ryw: ReadYourWrites,
    @Inject(LEADER_LEASE) private readonly lease: LeaderLease,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.loadKey();
  }

  private get sharedStore(): boolean {
    return this.config.eventStore !== 'sqlite';
  }

  onApplicationBootstrap(): void {
    // Best effort at start (the store may be away): signing publishes first anyway.
    if (this.sharedStore) void this.publishKey().catch(() => undefined);
    const every = Number(process.env.AUDIT_CHECKPOINT_INTERVAL_MS ?? 600_000);
    if (every > 0) {
      this.timer = setInterval(() => void this.checkpointRound(0).catch((e: Error) => this.logger.warn(`checkpoint failed: ${e.message}`)), every);
      this.timer.unref();
    }
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Signs the current head of every scope's chain that moved since its last checkpoint. */
  async checkpointNow(): Promise<SignedCheckpoint[]> {
    // On demand: wait for another instance's round rather than skip; it may have signed
    // everything already, and then this round signs nothing.
    return this.checkpointRound(10_000);
  }

  private async checkpointRound(waitMs: number): Promise<SignedCheckpoint[]> {
    const round = await this.lease.runExclusive('audit-checkpoints', () => this.signHeads(), { waitMs });
    return round.ran ? round.value : [];
  }

  /**
   * The keys checkpoints and exports in this store may be signed with, this instance's first (it
   * signs the manifests it serves): on a shared store every published key too. The fingerprint is
   * what auditors pin.
   */
  async publicKeys(): Promise<PublicKeyEntry[]> {
    const keys = new Map<string, PublicKeyEntry>([[this.keyId, publicKeyEntry(this.publicKeyPem)]]);
    if (!this.sharedStore) return [...keys.values()];
    for (const k of await this.publishedKeys()) if (!keys.has(k.keyId)) keys.set(k.keyId, publicKeyEntry(k.publicKeyPem));
    return [...keys.values()];
  }

  private async publishedKeys(): Promise<PublicKeyInfo[]> {
    try {
      const events = await this.store.readStream(AUDIT_KEYS_STREAM);
      return events.filter((e) => e.type === 'AuditSigningKeyPublished').map((e) => e.data as unknown as PublicKeyInfo);
    } catch (err) {
      if (err instanceof StreamNotFoundError) return [];
      throw err;
    }
  }

  private async publishKey(): Promise<void> {
    if (this.published) return;
    if (!(await this.publishedKeys()).some((k) => k.keyId === this.keyId)) {
      await publishSigningKey(this.store, { keyId: this.keyId, algorithm: 'Ed25519', publicKeyPem: this.publicKeyPem });
    }
    this.published = true;
  }

  private async signHeads(): Promise<SignedCheckpoint[]> {
    if (this.sharedStore) await this.publishKey();
    // Under the lease, after the store's head: another instance's checkpoints are seen here.
    await this.ryw.settle();
    const audit = this.runner.handle<AuditHandle>('audit');
    return this.checkpointAt(audit.heads().map((h) => ({ scope: h.scope, position: String(h.position), count: h.count, headHash: h.hash })));
  }

  /**
   * Signs and records a checkpoint at each of these chain positions that has none yet (an
   * export's last record of each scope, so every exported record is covered by a signature).
   */
  async checkpointAt(points: readonly { scope: string; position: string; count: number; headHash: string }[]): Promise<SignedCheckpoint[]> {
    const audit = this.runner.handle<AuditHandle>('audit');
    const existing = new Set(audit.checkpoints().map((c) => `${c.scope}|${c.position}`));
    const made: SignedCheckpoint[] = [];
    for (const point of points) {
      if (existing.has(`${point.scope}|${point.position}`)) continue;
      const signed = signCheckpoint({ ...point, time: this.clock.now().toISOString() }, this.privateKey);
      await this.store.append(
        `auditCheckpoints-${point.scope}`,
        [{ id: timeOrderedId(), type: 'AuditCheckpointSigned', data: signed as unknown as JsonObject, metadata: eventMetadata(systemContext(randomUUID(), randomUUID()), 'instance', signed.time) }],
        'any',
      );
      made.push(signed);
    }
    await this.ryw.settle();
    return made;
  }

  signManifest(manifest: BundleManifest): SignedManifest {
    return signManifest(manifest, this.privateKey);
  }

  private loadKey(): void {
    const file = signingKeyFile(this.config.dataDir);
    if (!existsSync(file)) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, generateSigningKey().privateKeyPem, { mode: 0o600 });
      chmodSync(file, 0o600);
    }
    this.privateKey = createPrivateKey(readFileSync(file));
    const publicKey = createPublicKey(this.privateKey);
    this.publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    this.keyId = keyIdOf(publicKey);
  }
}
