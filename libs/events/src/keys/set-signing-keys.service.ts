import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK, type KeyLike, SignJWT } from 'jose';
import { v5 as uuidV5 } from 'uuid';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { EVENT_STORE, type EventStore, type JsonObject, StreamNotFoundError } from '@app/event-store';
import { CLOCK, type Clock, eventMetadata, systemContext } from '@app/identity';
import type { SigningAlg } from '../streams/stream.events';

/** Public SET signing keys of every instance, with their retirement: what the JWKS serves. */
export const SET_KEYS_STREAM = 'setSigningKeys';
const KEY_EVENT_NAMESPACE = '5f0d7f4e-2a55-4c4e-9b1e-8b0f3f5d7a21';
const ALGS: readonly SigningAlg[] = ['EdDSA', 'ES256'];

interface KeyFile {
  kid: string;
  alg: SigningAlg;
  createdAt: string;
  privateJwk: JWK;
}

interface PublishedKey {
  kid: string;
  alg: SigningAlg;
  jwk: JWK;
  /** While set, the key is in the JWKS until then (the rotation overlap); it no longer signs. */
  removeAfter?: string;
}

/**
 * The keys that sign SETs: one Ed25519 and one P-256 key per instance, as JWK files in
 * `DATA_DIR/set-signing-keys` (mode 0600, like the audit signing key), generated on first use.
 * Each public key is published as an event before it signs anything, so every instance on a
 * shared store serves every key in its JWKS. A rotation makes new keys and retires the old ones
 * with an overlap: receivers that cached the JWKS keep verifying SETs already sent.
 */
@Injectable()
export class SetSigningKeys {
  private readonly dir: string;
  private current = new Map<SigningAlg, { kid: string; key: KeyLike | Uint8Array }>();
  private published = new Set<string>();
  private loading?: Promise<void>;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.dir = process.env.SET_SIGNING_KEY_DIR || join(config.dataDir, 'set-signing-keys');
  }

  /** The rotation overlap: how long a retired key stays in the JWKS. */
  static overlapMs(): number {
    return Number(process.env.SET_KEY_ROTATION_OVERLAP_MS ?? 7 * 24 * 3600_000);
  }

  /** A compact JWS of `claims` with this instance's current key for `alg` (`typ: secevent+jwt`). */
  async sign(claims: JsonObject, alg: SigningAlg): Promise<string> {
    await this.ready();
    const k = this.current.get(alg) as { kid: string; key: KeyLike | Uint8Array };
    return new SignJWT(claims).setProtectedHeader({ alg, kid: k.kid, typ: 'secevent+jwt' }).sign(k.key);
  }

  /** `{keys: [...]}`: every published key not past its overlap, newest first. */
  async jwks(): Promise<{ keys: JWK[] }> {
    await this.ready();
    const now = this.clock.now().getTime();
    const keys = [...(await this.publishedKeys()).values()].filter((k) => !k.removeAfter || Date.parse(k.removeAfter) > now);
    return { keys: keys.reverse().map((k) => ({ ...k.jwk, kid: k.kid, alg: k.alg, use: 'sig' })) };
  }

  /** New keys for this instance; the old ones stay in the JWKS for the overlap, then leave it. */
  async rotate(): Promise<{ kids: string[]; retired: string[]; removeAfter: string }> {
    await this.ready();
    const retired = [...this.current.values()].map((k) => k.kid);
    for (const alg of ALGS) await this.generate(alg);
    this.current.clear();
    this.loadCurrent();
    await this.publishCurrent();
    const removeAfter = new Date(this.clock.now().getTime() + SetSigningKeys.overlapMs()).toISOString();
    await this.append(retired.map((kid) => ({ id: uuidV5(`${kid}:retired`, KEY_EVENT_NAMESPACE), type: 'SetSigningKeyRetired', data: { kid, removeAfter } })));
    return { kids: [...this.current.values()].map((k) => k.kid), retired, removeAfter };
  }

  private ready(): Promise<void> {
    this.loading ??= (async () => {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      this.loadCurrent();
      for (const alg of ALGS) {
        if (!this.current.has(alg)) {
          await this.generate(alg);
          this.loadCurrent();
        }
      }
      await this.publishCurrent();
    })().catch((err: unknown) => {
      this.loading = undefined;
      throw err;
    });
    return this.loading;
  }

  /** The newest key file of each algorithm is the one that signs (its key is imported by `publishCurrent`). */
  private loadCurrent(): void {
    const files = readdirSync(this.dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(join(this.dir, f), 'utf8')) as KeyFile)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    for (const f of files) this.current.set(f.alg, { kid: f.kid, key: importedKeys.get(f.kid) ?? new Uint8Array() });
  }

  private async generate(alg: SigningAlg): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair(alg, alg === 'EdDSA' ? { crv: 'Ed25519', extractable: true } : { extractable: true });
    const kid = await calculateJwkThumbprint(await exportJWK(publicKey));
    const file: KeyFile = { kid, alg, createdAt: `${this.clock.now().toISOString()}#${randomUUID()}`, privateJwk: await exportJWK(privateKey) };
    const path = join(this.dir, `${kid}.json`);
    // Written whole then renamed, so a crash never leaves half a key that a restart would read.
    writeFileSync(`${path}.tmp`, JSON.stringify(file), { mode: 0o600 });
    chmodSync(`${path}.tmp`, 0o600);
    renameSync(`${path}.tmp`, path);
  }

  private async publishCurrent(): Promise<void> {
    const events = [];
    for (const [alg, k] of this.current) {
      const file = JSON.parse(readFileSync(join(this.dir, `${k.kid}.json`), 'utf8')) as KeyFile;
      const key = await importJWK(file.privateJwk, alg);
      importedKeys.set(k.kid, key as KeyLike);
      this.current.set(alg, { kid: k.kid, key });
      if (this.published.has(k.kid)) continue;
      const { d: _private, ...jwk } = file.privateJwk;
      events.push({ id: uuidV5(k.kid, KEY_EVENT_NAMESPACE), type: 'SetSigningKeyPublished', data: { kid: k.kid, alg, jwk: jwk as JsonObject } });
    }
    const known = await this.publishedKeys();
    await this.append(events.filter((e) => !known.has(e.data.kid)));
    for (const e of events) this.published.add(e.data.kid);
  }

  private async append(events: { id: string; type: string; data: JsonObject }[]): Promise<void> {
    if (events.length === 0) return;
    const time = this.clock.now().toISOString();
    const metadata = eventMetadata(systemContext(randomUUID(), randomUUID()), 'instance', time);
    await this.store.append(SET_KEYS_STREAM, events.map((e) => ({ ...e, metadata })), 'any');
  }

  private async publishedKeys(): Promise<Map<string, PublishedKey>> {
    const keys = new Map<string, PublishedKey>();
    try {
      for (const e of await this.store.readStream(SET_KEYS_STREAM)) {
        const d = e.data as JsonObject;
        if (e.type === 'SetSigningKeyPublished') keys.set(d.kid as string, { kid: d.kid as string, alg: d.alg as SigningAlg, jwk: d.jwk as unknown as JWK });
        if (e.type === 'SetSigningKeyRetired') {
          const k = keys.get(d.kid as string);
          if (k) k.removeAfter = d.removeAfter as string;
        }
      }
    } catch (err) {
      if (!(err instanceof StreamNotFoundError)) throw err;
    }
    return keys;
  }
}

/** Imported private keys by kid (importing is async; signing every SET should not re-import). */
const importedKeys = new Map<string, KeyLike>();
