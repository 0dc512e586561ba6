import { Logger } from '@nestjs/common';
import type { ChangeNotice, ChangeSubscription, RedisChangesChannel } from '@app/queue';
import { ChangeHub } from './change-hub.service';

const noticeFor = (tenantId: string, ownerId: string, cursor = '1'): ChangeNotice => ({
  tenantId,
  ownerId,
  change: { cursor, type: 'file.ready', fileId: 'f1', at: '2026-12-06T00:00:00.000Z', data: {} },
});

/** A hub over a channel the test drives: it sees the subscription's adds and removes and plays Redis. */
function hubWith(opts: { confirm?: 'at-once' | 'never' } = {}) {
  const calls: string[] = [];
  let onNotice!: (n: ChangeNotice) => void;
  let onGap!: () => void;
  const subscription: ChangeSubscription = {
    add: (t, o) => {
      calls.push(`add ${t}/${o}`);
      return opts.confirm === 'never' ? new Promise(() => undefined) : Promise.resolve();
    },
    remove: (t, o) => void calls.push(`remove ${t}/${o}`),
    close: () => void calls.push('close'),
  };
  const channel = {
    subscribe: (n: (notice: ChangeNotice) => void, g: () => void) => {
      onNotice = n;
      onGap = g;
      return subscription;
    },
  } as unknown as RedisChangesChannel;
  const hub = new ChangeHub(channel);
  hub.onModuleInit();
  return { hub, calls, publish: (n: ChangeNotice) => onNotice(n), gap: () => onGap() };
}

describe('ChangeHub', () => {
  beforeAll(() => Logger.overrideLogger(false));

  it("subscribes to an owner's channel with its first listener and drops it with its last", () => {
    const { hub, calls } = hubWith();
    const phone = hub.listen('t', 'alice', () => undefined);
    const laptop = hub.listen('t', 'alice', () => undefined);
    const bob = hub.listen('t', 'bob', () => undefined);
    expect(calls).toEqual(['add t/alice', 'add t/bob']);
    phone.stop();
    phone.stop(); // twice: harmless
    expect(calls).toEqual(['add t/alice', 'add t/bob']);
    laptop.stop();
    bob.stop();
    expect(calls).toEqual(['add t/alice', 'add t/bob', 'remove t/alice', 'remove t/bob']);
  });

  it("hands each notice to its owner's listeners only", () => {
    const { hub, publish } = hubWith();
    const alice: Array<ChangeNotice | null> = [];
    const bob: Array<ChangeNotice | null> = [];
    hub.listen('t', 'alice', (n) => alice.push(n));
    hub.listen('t', 'bob', (n) => bob.push(n));
    publish(noticeFor('t', 'alice'));
    expect(alice).toEqual([noticeFor('t', 'alice')]);
    expect(bob).toEqual([]);
  });

  it('tells every listener to catch up from the database after a gap', () => {
    const { hub, gap } = hubWith();
    const seen: Array<ChangeNotice | null> = [];
    hub.listen('t', 'alice', (n) => seen.push(n));
    hub.listen('t', 'bob', (n) => seen.push(n));
    gap();
    expect(seen).toEqual([null, null]);
  });

  it('is ready once the subscription is confirmed', async () => {
    const { hub } = hubWith();
    await expect(hub.listen('t', 'alice', () => undefined).ready).resolves.toBeUndefined();
  });

  it('is ready after a second even when Redis never confirms (the gap catch-up covers what is missed)', async () => {
    jest.useFakeTimers();
    try {
      const { hub } = hubWith({ confirm: 'never' });
      let ready = false;
      void hub.listen('t', 'alice', () => undefined).ready.then(() => (ready = true));
      await jest.advanceTimersByTimeAsync(999);
      expect(ready).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(ready).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });

  it('closes the subscription at shutdown', () => {
    const { hub, calls } = hubWith();
    hub.onApplicationShutdown();
    expect(calls).toEqual(['close']);
  });
});
