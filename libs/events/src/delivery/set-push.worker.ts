import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { LEADER_LEASE, type LeaderLease } from '@app/event-store';
import { CLOCK, type Clock, systemContext } from '@app/identity';
import { ProjectionRunner } from '@app/projections';
import { SetSigningKeys } from '../keys/set-signing-keys.service';
import { SetStreams } from '../streams/set-streams.service';
import { DeliveryMethod, type StreamConfig } from '../streams/stream.events';
import type { PendingSet, StreamView } from './delivery.state';
import { SetDelivery } from './set-delivery.service';

/** Per stream, in memory: when to try again after a failure (a restart simply tries at once). */
interface Backoff {
  attempts: number;
  nextAt: number;
  firstFailureAt: number;
  lastError: string;
}

export interface PushStatus {
  readonly streamId: string;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly failingSinceMs: number | null;
}

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

/**
 * RFC 8935 push: one SET per POST, in log order per stream, under the lease `set-push` so that
 * one instance of a shared store pushes. Progress is an event after each accepted SET, so a
 * crash re-sends at most the SET in flight (same `jti`: receivers de-duplicate). 202 is
 * delivered; 400 `{err, description}` is recorded (audited) and not retried; anything else
 * (network, 5xx, 429, other statuses) is retried with exponential backoff and full jitter, and
 * past `SET_PUSH_FAILING_AFTER_MS` the stream is marked failing (audited) until one succeeds.
 */
@Injectable()
export class SetPushWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('set-push');
  private readonly backoff = new Map<string, Backoff>();
  private stopped = false;
  private loop?: Promise<void>;
  private wake?: () => void;

  constructor(
    private readonly streams: SetStreams,
    private readonly delivery: SetDelivery,
    private readonly keys: SetSigningKeys,
    private readonly runner: ProjectionRunner,
    @Inject(LEADER_LEASE) private readonly lease: LeaderLease,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    if (process.env.SET_PUSH_DISABLED === 'true') return;
    this.loop = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  status(streamId: string): PushStatus {
    const b = this.backoff.get(streamId);
    return { streamId, attempts: b?.attempts ?? 0, lastError: b?.lastError ?? null, failingSinceMs: b ? this.clock.now().getTime() - b.firstFailureAt : null };
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let busy = false;
      try {
        const round = await this.lease.runExclusive('set-push', () => this.round());
        busy = round.ran && round.value;
      } catch (err) {
        // The store or the feed away (starting, an outage): the next round tries again.
        if (!this.stopped) this.logger.warn(`push round failed: ${(err as Error).message}`);
      }
      if (this.stopped || busy) continue;
      // Idle: wake on the next applied event, or soon enough for a retry that falls due.
      await Promise.race([
        this.runner.waitFor(this.runner.position + 1n, env('SET_PUSH_IDLE_MS', 500)),
        new Promise<void>((r) => (this.wake = r)),
      ]);
    }
  }

  /** One pass over the push streams; true when something was sent (go again at once). */
  private async round(): Promise<boolean> {
    if (!this.runner.isCaughtUp) return false;
    let sent = false;
    for (const s of this.streams.feed().streams()) {
      if (this.stopped) break;
      if (s.method !== DeliveryMethod.push) continue;
      const b = this.backoff.get(s.id);
      if (b && b.nextAt > this.clock.now().getTime()) continue;
      const view = await this.streams.load(s.id);
      if (!view.state.exists || view.state.deleted || view.state.status !== 'enabled') continue;
      if (await this.pushStream(view)) sent = true;
    }
    return sent;
  }

  private async pushStream(view: StreamView): Promise<boolean> {
    const progress = await this.streams.progress(view.state.id);
    const { sets } = await this.delivery.pending(view, progress, env('SET_PUSH_BATCH', 50));
    let sent = false;
    for (const set of sets) {
      if (this.stopped) break;
      const outcome = await this.send(view, set);
      if (outcome.kind === 'retry') {
        await this.failed(view, outcome.error);
        break;
      }
      sent = true;
      if (outcome.kind === 'rejected') {
        await this.streams.run(
          { type: 'RecordRejection', streamId: view.state.id, scope: view.state.scope, jti: set.jti, err: outcome.err, description: outcome.description },
          systemContext(randomUUID(), randomUUID()),
        );
      }
      await this.streams.recordProgress(view.state.id, { type: 'SetsSettled', data: { position: set.key.position.toString(), index: set.key.index } });
      await this.succeeded(view);
    }
    return sent;
  }

  private async send(view: StreamView, set: PendingSet): Promise<{ kind: 'ok' } | { kind: 'rejected'; err: string; description: string | null } | { kind: 'retry'; error: string }> {
    const config = view.state.config as StreamConfig;
    const token = await this.keys.sign(set.claims, config.alg);
    try {
      const res = await fetch(config.endpointUrl as string, {
        method: 'POST',
        headers: {
          'content-type': 'application/secevent+jwt',
          accept: 'application/json',
          ...(config.authorizationHeader ? { authorization: config.authorizationHeader } : {}),
        },
        body: token,
        redirect: 'error',
        signal: AbortSignal.timeout(env('SET_PUSH_TIMEOUT_MS', 10_000)),
      });
      const text = await res.text().catch(() => '');
      if (res.status >= 200 && res.status < 300) return { kind: 'ok' };
      if (res.status === 400) {
        let body: { err?: unknown; description?: unknown } = {};
        try {
          body = JSON.parse(text) as typeof body;
        } catch {
          // A 400 without the RFC 8935 body is still a rejection of this SET.
        }
        return { kind: 'rejected', err: typeof body.err === 'string' ? body.err : 'invalid_request', description: typeof body.description === 'string' ? body.description : null };
      }
      return { kind: 'retry', error: `HTTP ${res.status}` };
    } catch (err) {
      return { kind: 'retry', error: (err as Error).message };
    }
  }

  private async failed(view: StreamView, error: string): Promise<void> {
    const now = this.clock.now().getTime();
    const prev = this.backoff.get(view.state.id);
    const attempts = (prev?.attempts ?? 0) + 1;
    const cap = env('SET_PUSH_MAX_BACKOFF_MS', 60_000);
    const ceiling = Math.min(cap, env('SET_PUSH_BASE_BACKOFF_MS', 250) * 2 ** Math.min(attempts - 1, 20));
    // Full jitter (AWS architecture blog): receivers coming back are not hit by every stream at once.
    const delay = Math.floor(Math.random() * ceiling);
    const b: Backoff = { attempts, nextAt: now + delay, firstFailureAt: prev?.firstFailureAt ?? now, lastError: error };
    this.backoff.set(view.state.id, b);
    if (now - b.firstFailureAt >= env('SET_PUSH_FAILING_AFTER_MS', 15 * 60_000) && !view.state.failing) {
      this.logger.warn(`stream ${view.state.id} failing since ${new Date(b.firstFailureAt).toISOString()}: ${error}`);
      await this.streams.run(
        { type: 'MarkFailing', streamId: view.state.id, scope: view.state.scope, since: new Date(b.firstFailureAt).toISOString(), lastError: error },
        systemContext(randomUUID(), randomUUID()),
      );
    }
  }

  private async succeeded(view: StreamView): Promise<void> {
    if (this.backoff.delete(view.state.id) || view.state.failing) {
      const fresh = await this.streams.load(view.state.id);
      if (fresh.state.failing) {
        await this.streams.run({ type: 'MarkRecovered', streamId: view.state.id, scope: view.state.scope }, systemContext(randomUUID(), randomUUID()));
      }
    }
  }
}
