import { randomBytes } from 'node:crypto';
import { hashIdentifier, keyedValueHash, reservationStream, sha256ValueHash } from './reservations';

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
});
