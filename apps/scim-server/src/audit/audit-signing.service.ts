import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomUUID, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { type AuditHandle, type BundleManifest, generateSigningKey, keyIdOf, publicKeyEntry, type PublicKeyEntry, signCheckpoint, type SignedCheckpoint, type SignedManifest, signManifest } from '@app/audit';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { EVENT_STORE, type EventStore, type JsonObject, timeOrderedId } from '@app/event-store';
import { eventMetadata, systemContext } from '@app/identity';
import { ProjectionRunner, ReadYourWrites } from '@app/projections';

/**
 * The Ed25519 key that signs audit checkpoints: from AUDIT_SIGNING_KEY_FILE, or generated on
 * first start into DATA_DIR (mode 0600). Checkpoints are appended as events (outside the
 * chain they certify), every AUDIT_CHECKPOINT_INTERVAL_MS and on demand.
 */
@Injectable()
export class AuditSigningService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('audit');
  private privateKey!: KeyObject;
  publicKeyPem!: string;
  keyId!: string;
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly runner: ProjectionRunner,
    private readonly ryw: ReadYourWrites,
  ) {
    this.loadKey();
  }

  onApplicationBootstrap(): void {
    const every = Number(process.env.AUDIT_CHECKPOINT_INTERVAL_MS ?? 600_000);
    if (every > 0) {
      this.timer = setInterval(() => void this.checkpointNow().catch((e: Error) => this.logger.warn(`checkpoint failed: ${e.message}`)), every);
      this.timer.unref();
    }
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Signs the current head of every scope's chain that moved since its last checkpoint. */
  async checkpointNow(): Promise<SignedCheckpoint[]> {
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
      const signed = signCheckpoint({ ...point, time: new Date().toISOString() }, this.privateKey);
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

  /** The keys an export's signatures can be checked with; the fingerprint is what auditors pin. */
  publicKeys(): PublicKeyEntry[] {
    return [publicKeyEntry(this.publicKeyPem)];
  }

  private loadKey(): void {
    const file = process.env.AUDIT_SIGNING_KEY_FILE || join(this.config.dataDir, 'audit-signing-key.pem');
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
