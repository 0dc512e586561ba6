/**
 * A typed mock of an adapter or repository for unit tests that fails loudly on anything the test
 * did not set up: every method given is a `jest.fn` (so calls can be asserted), and calling any
 * other method throws, naming it. A unit test then states every outside effect it allows.
 */
export type StrictMock<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R ? jest.Mock<R, A> & T[K] : T[K];
};

type Impl<T> = Partial<{ [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => R : T[K] }>;

export function strictMock<T extends object>(name: string, impl: Impl<T> = {}): StrictMock<T> & T {
  const target: Record<string | symbol, unknown> = {};
  for (const [key, value] of Object.entries(impl)) target[key] = typeof value === 'function' ? jest.fn(value as (...args: unknown[]) => unknown) : value;
  return new Proxy(target, {
    get(t, prop) {
      if (prop in t) return t[prop];
      // What await, jest's matchers and util.inspect probe for is not a call of the mocked API.
      if (typeof prop === 'symbol' || prop === 'then' || prop === 'asymmetricMatch' || prop === 'toJSON' || prop === 'constructor') return undefined;
      throw new Error(`${name}.${prop} was used, but this test did not expect it (give it to strictMock)`);
    },
  }) as StrictMock<T> & T;
}

/**
 * Every call made on these mocks, in the order they were made, as `[name.method, ...args]`, so a
 * test can state all the effects it allows, not just the ones it looks for.
 */
export function callsInOrder(mocks: Record<string, object>): Array<[string, ...unknown[]]> {
  return Object.entries(mocks)
    .flatMap(([name, mock]) =>
      Object.entries(mock).flatMap(([method, fn]) =>
        jest.isMockFunction(fn)
          ? fn.mock.calls.map((args: unknown[], i: number) => ({
              at: fn.mock.invocationCallOrder[i],
              call: [`${name}.${method}`, ...args] as [string, ...unknown[]],
            }))
          : [],
      ),
    )
    .sort((a, b) => a.at - b.at)
    .map((c) => c.call);
}
