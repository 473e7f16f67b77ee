import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { EVENT_STORE, type EventStore, StreamNotFoundError, WrongExpectedRevisionError } from '@app/event-store';
import { CLOCK, type Clock, eventMetadata, systemContext } from '@app/identity';
import { CursorCodec } from '@app/scim';

/** The one stream holding the paging-cursor secret (kept out of the audit chains: it is a key). */
export const CURSOR_SECRET_STREAM = 'scimCursorSecret';
const CREATED = 'CursorSecretCreated';

/**
 * The secret that seals SCIM paging cursors, kept in the log: the one thing every instance of a
 * deployment shares and that outlives restarts, so a cursor issued by one instance opens on any
 * other. The first instance that needs it appends it at `no_stream`; an instance that loses that
 * race reads the winner's. Whoever reads the log could forge a cursor, but a cursor only says
 * where to resume inside the scope and query the caller's own token already authorizes (both
 * are checked on every page), so it grants nothing the token does not.
 */
@Injectable()
export class CursorKeyring {
  private codec?: Promise<CursorCodec>;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get timeoutSeconds(): number {
    return this.config.cursorTimeoutSeconds;
  }

  cursors(): Promise<CursorCodec> {
    // A failed load (store down) is not cached: the next request tries again.
    this.codec ??= this.load().then(
      (secret) => new CursorCodec({ secret, timeoutSeconds: this.config.cursorTimeoutSeconds, now: () => this.clock.now() }),
      (err: unknown) => {
        this.codec = undefined;
        throw err;
      },
    );
    return this.codec;
  }

  private async load(): Promise<Buffer> {
    const existing = await this.read();
    if (existing) return existing;
    const secret = randomBytes(32);
    try {
      const at = this.clock.now().toISOString();
      await this.store.append(
        CURSOR_SECRET_STREAM,
        [{ id: randomUUID(), type: CREATED, data: { secret: secret.toString('base64url') }, metadata: eventMetadata(systemContext(randomUUID(), randomUUID()), 'instance', at) }],
        'no_stream',
      );
      return secret;
    } catch (err) {
      if (!(err instanceof WrongExpectedRevisionError)) throw err;
      const winner = await this.read();
      if (!winner) throw err;
      return winner;
    }
  }

  private async read(): Promise<Buffer | undefined> {
    try {
      const [first] = await this.store.readStream(CURSOR_SECRET_STREAM);
      const secret = first?.type === CREATED ? (first.data as { secret?: unknown }).secret : undefined;
      return typeof secret === 'string' ? Buffer.from(secret, 'base64url') : undefined;
    } catch (err) {
      if (err instanceof StreamNotFoundError) return undefined;
      throw err;
    }
  }
}
