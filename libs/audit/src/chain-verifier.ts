import type { ChainedEnvelope } from './audit.projection';
import type { AuditEnvelope } from './audit-envelope';
import { type SignedCheckpoint, verifyCheckpoint } from './checkpoint';
import { chainHash, GENESIS } from './hash-chain';

export type ChainVerdict = { ok: true; events: number; scopes: number; checkpoints: number } | { ok: false; problem: string; record?: string };

/**
 * Verifies records one page at a time, so a log of millions of events is checked without
 * holding it in memory: each record's hash, the link to the previous record of its scope,
 * log order; then the checkpoints' signatures and their agreement with the chain.
 */
export class ChainVerifier {
  private readonly last = new Map<string, ChainedEnvelope>();
  private readonly hashAt = new Map<string, { scope: string; hash: string; seq: number }>();
  private previous = -1n;
  private count = 0;
  private failure?: { ok: false; problem: string; record?: string };

  /** Feeds the next records in log order; false once a problem was found. */
  add(records: readonly ChainedEnvelope[], remember: (position: string) => boolean = () => true): boolean {
    for (const record of records) {
      if (this.failure) return false;
      const { seq, prevHash, hash, ...envelope } = record;
      if (chainHash(prevHash, envelope as AuditEnvelope) !== hash) return this.fail('the record does not match its hash (edited)', record.id);
      const position = BigInt(record.position);
      if (position <= this.previous) return this.fail('records are out of log order', record.id);
      this.previous = position;
      const before = this.last.get(record.scope);
      if (before) {
        if (prevHash !== before.hash || seq !== before.seq + 1) return this.fail(`a record of scope ${record.scope} is missing or out of order before this one`, record.id);
      } else if (seq === 1 && prevHash !== GENESIS) {
        return this.fail('the first record of a scope does not start from the genesis hash', record.id);
      }
      this.last.set(record.scope, record);
      if (remember(record.position)) this.hashAt.set(record.position, { scope: record.scope, hash, seq });
      this.count++;
    }
    return true;
  }

  checkpoints(checkpoints: readonly SignedCheckpoint[], publicKeys: Readonly<Record<string, string>>): boolean {
    for (const c of checkpoints) {
      if (this.failure) return false;
      const key = publicKeys[c.keyId];
      if (!key || !verifyCheckpoint(c, key)) return this.fail(`checkpoint of scope ${c.scope} at ${c.position} has an invalid signature`, `checkpoint ${c.scope}@${c.position}`);
      const at = this.hashAt.get(c.position);
      if (at && (at.scope !== c.scope || at.hash !== c.headHash || at.seq !== c.count)) return this.fail(`checkpoint of scope ${c.scope} at ${c.position} disagrees with the chain`, `checkpoint ${c.scope}@${c.position}`);
    }
    return true;
  }

  heads(): Map<string, ChainedEnvelope> {
    return this.last;
  }

  verdict(checkpoints: number): ChainVerdict {
    return this.failure ?? { ok: true, events: this.count, scopes: this.last.size, checkpoints };
  }

  private fail(problem: string, record?: string): false {
    this.failure = { ok: false, problem, ...(record ? { record } : {}) };
    return false;
  }
}
