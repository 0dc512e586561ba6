import { ProgressMeter, UploadProgress } from './progress';

/** A meter on a hand-driven clock, with its events. */
function meter(total: number, parts: number, intervalMs = 100) {
  let now = 1_000;
  const events: UploadProgress[] = [];
  const m = new ProgressMeter(
    total,
    parts,
    (p) => events.push(p),
    intervalMs,
    () => now,
  );
  return {
    m,
    events,
    bytes: () => events.map((e) => e.bytesUploaded),
    advance: (ms: number) => {
      now += ms;
      jest.advanceTimersByTime(ms);
    },
  };
}

describe('ProgressMeter', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('reports at most once per interval, the latest state winning, and the final state at once', () => {
    const t = meter(1000, 2);
    t.m.start(0, 0);
    t.m.sending(1, 100); // first change after the start waits for the interval
    t.m.sending(1, 200);
    t.m.sending(2, 50);
    expect(t.bytes()).toEqual([0]);
    t.advance(100);
    expect(t.bytes()).toEqual([0, 250]);
    t.m.sending(1, 500);
    t.advance(50);
    expect(t.bytes()).toEqual([0, 250]); // still inside the interval
    t.m.partDone(1, 500);
    t.advance(50);
    expect(t.events[2]).toEqual({ bytesUploaded: 550, totalBytes: 1000, partsDone: 1, partCount: 2 });
    t.m.sending(2, 500);
    t.m.partDone(2, 500);
    t.m.finish(); // not held back by the interval
    expect(t.events.at(-1)).toEqual({ bytesUploaded: 1000, totalBytes: 1000, partsDone: 2, partCount: 2 });
    t.advance(1_000);
    expect(t.events).toHaveLength(4); // nothing after the final state
  });

  it("never goes backwards: a failed attempt's bytes leave the count, and the value holds until the retry passes it", () => {
    const t = meter(1000, 1, 0);
    t.m.start(0, 0);
    t.m.sending(1, 300);
    t.m.sending(1, 600);
    t.m.dropped(1); // the attempt failed at 600
    t.m.sending(1, 200); // the retry: not reported (the bar holds at 600)
    t.m.sending(1, 600);
    t.m.sending(1, 700);
    t.m.partDone(1, 1000);
    t.m.finish();
    expect(t.bytes()).toEqual([0, 300, 600, 700, 1000]);
  });

  it('counts a retried part once (its earlier attempt is subtracted, not added)', () => {
    const t = meter(1000, 2, 0);
    t.m.start(0, 0);
    t.m.sending(1, 400);
    t.m.dropped(1);
    t.m.sending(1, 500);
    t.m.sending(2, 400);
    expect(t.bytes().at(-1)).toBe(900); // 500 + 400, not 400 + 500 + 400
  });

  it('starts a resumed upload from what storage holds and reports a finished state once', () => {
    const t = meter(1000, 4, 0);
    t.m.start(750, 3);
    t.m.finish(); // nothing changed since the start
    expect(t.events).toEqual([{ bytesUploaded: 750, totalBytes: 1000, partsDone: 3, partCount: 4 }]);
  });

  it('stops reporting once stopped (a failed upload), even with an event pending', () => {
    const t = meter(1000, 1);
    t.m.start(0, 0);
    t.m.sending(1, 10);
    t.m.stop();
    t.advance(500);
    expect(t.bytes()).toEqual([0]);
  });

  it('keeps counting when onProgress throws, and rethrows outside the upload', () => {
    let calls = 0;
    const m = new ProgressMeter(
      10,
      1,
      () => {
        calls++;
        throw new Error('ui bug');
      },
      0,
    );
    m.start(0, 0);
    expect(() => jest.runOnlyPendingTimers()).toThrow('ui bug');
    m.sending(1, 5);
    m.partDone(1, 10);
    m.finish();
    expect(calls).toBe(3);
  });
});
