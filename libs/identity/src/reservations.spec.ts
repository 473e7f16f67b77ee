import { createHmac, randomBytes } from 'node:crypto';
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

  it('keyed: HMAC-SHA256 of the folded value, set up once per value and turn, remembered no longer', async () => {
    const secret = randomBytes(32);
    const h = keyedValueHash(secret);
    // The module's own `node:crypto` (a namespace import in this file would be a copy).
    const spy = jest.spyOn(jest.requireActual<typeof import('node:crypto')>('node:crypto'), 'createHmac');
    try {
      expect([h('jane@example.com'), h('jane@example.com'), h('joe@example.com')]).toEqual(
        ['jane@example.com', 'jane@example.com', 'joe@example.com'].map((v) => createHmac('sha256', secret).update(v).digest('hex')),
      );
      const inTurn = spy.mock.calls.length;
      await new Promise((resolve) => setImmediate(resolve));
      spy.mockClear();
      h('jane@example.com');
      expect(spy).toHaveBeenCalledTimes(1);
      expect(inTurn).toBe(2 + 3); // two in the turn, three for the expectation
    } finally {
      spy.mockRestore();
    }
  });
});

