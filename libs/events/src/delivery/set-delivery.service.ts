import { Injectable } from '@nestjs/common';
import type { CommandContext } from '@app/identity';
import { InvalidCommand } from '@app/identity';
import { ProjectionRunner, ReadYourWrites } from '@app/projections';
import type { FeedKey } from '../sets/scim-events.projection';
import { parseJti } from '../sets/set-claims';
import { SetSigningKeys } from '../keys/set-signing-keys.service';
import { SetStreams } from '../streams/set-streams.service';
import { DeliveryMethod, type StreamConfig } from '../streams/stream.events';
import { compareKeys, type DeliveryProgress, type PendingSet, setFor, type StreamView } from './delivery.state';

export interface PollRequest {
  maxEvents?: unknown;
  returnImmediately?: unknown;
  ack?: unknown;
  setErrs?: unknown;
}

export interface PollResponse {
  sets: Record<string, string>;
  moreAvailable: boolean;
}

const PAGE = 200;
const MAX_EVENTS = 1000;

/** Longest a poll waits for a SET (RFC 8936 §2.4 long polling), bounded so a proxy does not cut it. */
export const pollWaitMs = () => Number(process.env.SET_POLL_WAIT_MS ?? 15_000);

/** Reads a stream's undelivered SETs from the feed and serves RFC 8936 polls. */
@Injectable()
export class SetDelivery {
  constructor(
    private readonly streams: SetStreams,
    private readonly keys: SetSigningKeys,
    private readonly runner: ProjectionRunner,
    private readonly ryw: ReadYourWrites,
  ) {}

  /**
   * The stream's SETs after its settled floor that are not yet acknowledged, in log order,
   * at most `limit` (and whether there are more). Only log positions the feed has applied.
   */
  async pending(view: StreamView, progress: DeliveryProgress, limit: number): Promise<{ sets: PendingSet[]; more: boolean }> {
    const out: PendingSet[] = [];
    let cursor: FeedKey | null = progress.floor;
    if (!cursor || cursor.position < view.createdAt) cursor = { position: view.createdAt, index: Number.MAX_SAFE_INTEGER };
    for (;;) {
      const entries = this.streams.feed().after(view.state.scope, view.state.id, cursor, PAGE);
      for (const entry of entries) {
        const set = setFor(entry, view);
        if (!set || progress.acked.has(set.jti)) continue;
        if (out.length === limit) return { sets: out, more: true };
        out.push(set);
      }
      if (entries.length < PAGE) return { sets: out, more: false };
      const lastEntry = entries[entries.length - 1];
      cursor = { position: lastEntry.position, index: lastEntry.index };
    }
  }

  /** RFC 8936 §2.4: acknowledge and report errors, then return up to `maxEvents` SETs. */
  async poll(scope: string, streamId: string, body: PollRequest, ctx: CommandContext): Promise<PollResponse> {
    const request = parsePoll(body);
    let view = await this.streams.get(scope, streamId);
    const config = view.state.config as StreamConfig;
    if (config.method !== DeliveryMethod.poll) throw new InvalidCommand('This stream delivers by push (RFC 8935), not poll', 'delivery.method');
    const own = (jti: string) => parseJti(streamId, jti) !== undefined;
    for (const [jti, e] of Object.entries(request.setErrs)) {
      if (own(jti)) await this.streams.run({ type: 'RecordRejection', streamId, scope, jti, err: e.err, description: e.description }, ctx);
    }
    const settled = [...request.ack, ...Object.keys(request.setErrs)].filter(own);
    if (settled.length > 0) await this.acknowledge(view, settled);
    const deadline = Date.now() + (request.returnImmediately ? 0 : pollWaitMs());
    for (;;) {
      await this.ryw.settle();
      view = await this.streams.get(scope, streamId);
      const held = view.state.status !== 'enabled';
      const { sets, more } = held || request.maxEvents === 0 ? { sets: [], more: false } : await this.pending(view, await this.streams.progress(streamId), request.maxEvents);
      const remaining = deadline - Date.now();
      if (sets.length > 0 || remaining <= 0 || request.maxEvents === 0) {
        const signed: Record<string, string> = {};
        for (const s of sets) signed[s.jti] = await this.keys.sign(s.claims, config.alg);
        return { sets: signed, moreAvailable: more };
      }
      // Long poll: wake on the next applied event (or the deadline), then look again.
      await this.runner.waitFor(this.runner.position + 1n, Math.min(remaining, 1000));
    }
  }

  /** Records acknowledgements and moves the floor over the acknowledged prefix, so state stays small. */
  async acknowledge(view: StreamView, jtis: string[]): Promise<void> {
    const streamId = view.state.id;
    await this.streams.recordProgress(streamId, { type: 'SetsAcknowledged', data: { jtis: [...new Set(jtis)] } });
    const progress = await this.streams.progress(streamId);
    let floor: FeedKey | null = null;
    const acked = new Set(progress.acked);
    const { sets } = await this.pending(view, { ...progress, acked: new Set() }, MAX_EVENTS);
    for (const s of sets) {
      if (!acked.has(s.jti)) break;
      floor = s.key;
    }
    if (floor && (!progress.floor || compareKeys(floor, progress.floor) > 0)) {
      const f = floor;
      const ackedAbove = [...acked].filter((j) => {
        const k = parseJti(streamId, j);
        return k !== undefined && compareKeys(k, f) > 0;
      });
      await this.streams.recordProgress(streamId, { type: 'SetsSettled', data: { position: f.position.toString(), index: f.index, ackedAbove } });
    }
  }

  /** Lag of a stream: SETs of the scope's feed after its settled floor (an upper bound: filters are not applied). */
  lag(view: StreamView, progress: DeliveryProgress): { head: string | null; settled: string | null } {
    const head = this.streams.feed().last(view.state.scope);
    const fmt = (k: FeedKey | null) => (k ? `${k.position}.${k.index}` : null);
    return { head: fmt(head), settled: fmt(progress.floor) };
  }
}

function parsePoll(body: PollRequest): { maxEvents: number; returnImmediately: boolean; ack: string[]; setErrs: Record<string, { err: string; description: string | null }> } {
  const b = (body ?? {}) as PollRequest;
  const maxEvents = b.maxEvents === undefined ? 100 : b.maxEvents;
  if (typeof maxEvents !== 'number' || !Number.isInteger(maxEvents) || maxEvents < 0 || maxEvents > MAX_EVENTS) {
    throw new InvalidCommand(`maxEvents must be an integer from 0 to ${MAX_EVENTS}`, 'maxEvents');
  }
  if (b.returnImmediately !== undefined && typeof b.returnImmediately !== 'boolean') throw new InvalidCommand('returnImmediately must be a boolean', 'returnImmediately');
  const ack = b.ack ?? [];
  if (!Array.isArray(ack) || ack.some((j) => typeof j !== 'string') || ack.length > MAX_EVENTS) throw new InvalidCommand('ack must be an array of jti strings', 'ack');
  const setErrs: Record<string, { err: string; description: string | null }> = {};
  if (b.setErrs !== undefined) {
    if (typeof b.setErrs !== 'object' || b.setErrs === null || Array.isArray(b.setErrs)) throw new InvalidCommand('setErrs must be an object keyed by jti', 'setErrs');
    for (const [jti, e] of Object.entries(b.setErrs as Record<string, unknown>)) {
      const v = e as { err?: unknown; description?: unknown };
      if (typeof v !== 'object' || v === null || typeof v.err !== 'string') throw new InvalidCommand('each setErrs entry needs an err string', 'setErrs');
      setErrs[jti] = { err: v.err, description: typeof v.description === 'string' ? v.description : null };
    }
  }
  return { maxEvents, returnImmediately: b.returnImmediately === true, ack: ack as string[], setErrs };
}
