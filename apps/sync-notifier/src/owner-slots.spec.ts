import { OwnerSlots } from './owner-slots';

describe('OwnerSlots', () => {
  const alice = { tenantId: 't1', ownerId: 'alice' };
  const bob = { tenantId: 't1', ownerId: 'bob' };

  it('caps each owner on its own and gives a slot back once however often it is released', () => {
    const slots = new OwnerSlots({ SYNC_MAX_CONNECTIONS_PER_OWNER: 2 });
    const first = slots.take(alice)!;
    const second = slots.take(alice)!;
    expect(slots.take(alice)).toBeNull();
    expect(slots.take(bob)).not.toBeNull();

    first();
    first(); // a connection that ends two ways (socket close, then a handler's finally)
    expect(slots.heldBy(alice)).toBe(1);
    expect(slots.take(alice)).not.toBeNull();
    expect(slots.take(alice)).toBeNull();
    second();
    expect(slots.heldBy(alice)).toBe(1);
  });
});
