import { contractWatch } from './contract/contract-check';

jest.setTimeout(180_000);

// Every answer of upload-api and sync-notifier a test received must keep the OpenAPI contract
// (test/e2e/contract/contract-check.ts): a test that met a violation fails, naming it.
afterEach(() => {
  const violations = contractWatch.take();
  if (violations.length) {
    throw new Error(`contract violations:\n${violations.map((v) => `- ${v.request} -> ${v.status}: ${v.problem}`).join('\n')}`);
  }
});
