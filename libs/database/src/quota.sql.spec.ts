import { dealOut, quotaDelta } from './quota.sql';

describe('dealOut', () => {
  const rows = [
    { stripe: 0, held: 100n },
    { stripe: 1, held: 0n },
    { stripe: 2, held: 30n },
  ];

  it('gives every stripe what it holds plus an equal share, and the admitting stripe its bytes and the remainder', () => {
    // quota 1,000: held 130, admitting 50 on stripe 1 leaves 820 free, 273 each and 1 over.
    expect(dealOut(rows, 1, 3, 50n, 820n)).toEqual([
      { stripe: 0, allotment: 373n },
      { stripe: 1, allotment: 324n },
      { stripe: 2, allotment: 303n },
    ]);
  });

  it('allots exactly the quota, never more, whatever the split', () => {
    for (const free of [0n, 1n, 2n, 820n, 10n ** 15n + 7n]) {
      const sum = dealOut(rows, 2, 3, 50n, free).reduce((total, a) => total + a.allotment, 0n);
      expect(sum).toBe(130n + 50n + free);
    }
  });

  it('gives stripes beyond the configured count (left from a larger setting) only what they hold', () => {
    expect(dealOut(rows, 0, 2, 10n, 11n)).toEqual([
      { stripe: 0, allotment: 100n + 5n + 10n + 1n },
      { stripe: 1, allotment: 5n },
      { stripe: 2, allotment: 30n },
    ]);
  });
});

describe('quotaDelta', () => {
  it('moves reserved to used on commit, and frees reserved or used bytes', () => {
    expect(quotaDelta('commit', 5n)).toEqual({ reserved: -5n, used: 5n });
    expect(quotaDelta('release', 5n)).toEqual({ reserved: -5n, used: 0n });
    expect(quotaDelta('free', 5n)).toEqual({ reserved: 0n, used: -5n });
  });
});
