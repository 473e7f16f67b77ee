import { randomBytes } from 'node:crypto';
import { hashIdentifier, keyedValueHash, legacyReservationStream, reservationStream, sha256ValueHash, type ValueHash } from './reservations';

describe('reservation names', () => {
  const key = (value: string) => ({ kind: 'email' as const, scopeKey: 'instance', value });

  it('keyed: the name depends on the instance key, not only on the value, and folds as values compare', () => {
    const a = keyedValueHash(randomBytes(32));
    const b = keyedValueHash(randomBytes(32));
    expect(reservationStream(key('Jane@Example.com'), a)).toBe(reservationStream(key('jane@example.com'), a));
    expect(reservationStream(key('jane@example.com'), a)).not.toBe(reservationStream(key('jane@example.com'), b));
    // A guess hashed without the key does not find the stream.
    expect(reservationStream(key('jane@example.com'), a)).not.toBe(reservationStream(key('jane@example.com'), sha256ValueHash));
    expect(reservationStream(key('jane@example.com'), a)).not.toContain('jane');
  });

  it('the erased identifiers use the same hash as the names', () => {
    const h = keyedValueHash(randomBytes(32));
    expect(reservationStream(key('X@y.test'), h)).toBe(`unique-email-instance-${hashIdentifier('x@Y.TEST', h)}`);
  });

  it('hashes a key once however often a decision names its streams, and each hash function by its own', () => {
    const counted = (inner: ValueHash) => {
      const calls: string[] = [];
      const h: ValueHash = (folded) => (calls.push(folded), inner(folded));
      return { h, calls };
    };
    const a = counted(keyedValueHash(randomBytes(32)));
    const k = key('Ǆane@Example.com');
    const names = [reservationStream(k, a.h), legacyReservationStream(k, a.h), reservationStream(k, a.h), legacyReservationStream(k, a.h)];
    expect(a.calls).toHaveLength(names[1] === undefined ? 1 : 2);
    expect(names[2]).toBe(names[0]);
    const b = counted(sha256ValueHash);
    expect(reservationStream(k, b.h)).toBe(reservationStream(key('Ǆane@Example.com'), sha256ValueHash));
    expect(reservationStream(k, b.h)).not.toBe(names[0]);
  });
});
