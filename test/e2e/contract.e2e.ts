import { createHash, randomBytes } from 'node:crypto';
import { ContractChecker, OpenApiDocument } from './contract/contract-check';
import { loadTypedUploadFlow } from './contract/typed-flow';
import { createTenant, E2eStack, startStack } from './stack';

/**
 * The contract: the documents the services serve are the ones the tier checks every answer
 * against (test/e2e/setup.ts), the typed calls compile against and run, and a wrong document
 * is caught.
 */
describe('the API contract', () => {
  let stack: E2eStack;
  let api: string;
  let sync: string;
  let headers: Record<string, string>;

  beforeAll(async () => {
    stack = await startStack({ services: ['upload-api', 'sync-notifier', 'chunk-tracker'] });
    api = stack.service('upload-api').url;
    sync = stack.service('sync-notifier').url;
    const tenant = await createTenant(stack, { name: 'contract' });
    headers = { authorization: `Bearer ${tenant.apiKey}`, 'x-owner-id': 'alice' };
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it.each(['upload-api', 'sync-notifier'] as const)('%s serves the document the tier checks against, naming its own origin as the server', async (service) => {
    const base = stack.service(service).url;
    const served = (await (await fetch(`${base}/docs/openapi.json`)).json()) as OpenApiDocument & { openapi: string; servers: Array<{ url: string }> };
    const generated = ContractChecker.load(service).document as typeof served;
    expect(served.openapi).toBe('3.1.0');
    expect(served.servers).toEqual([{ url: base }]);
    expect({ ...served, servers: null }).toEqual({ ...generated, servers: null });
  });

  it('typed calls (types generated from the documents) upload a file and read it back', async () => {
    const bytes = randomBytes(2048);
    const typedUploadFlow = await loadTypedUploadFlow();
    const result = await typedUploadFlow(api, sync, headers, bytes);
    expect(result.mode).toBe('single');
    expect(['uploaded', 'processing', 'ready']).toContain(result.status);
    expect(result.listed).toEqual([result.id]);
    expect(result.nextCursor).toBeNull();
    expect(result.usedBytes).toBe(bytes.length);
    expect(result.problemCode).toBe('not_found');
    expect(result.changeTypes[0]).toBe('upload.created');
    if (result.sha256 !== null) expect(result.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('a wrong schema, an undeclared status and an undeclared error code are caught', async () => {
    const real = ContractChecker.load('upload-api');
    const list = await fetch(`${api}/v1/files?limit=1`, { headers });
    const body = await list.text();
    expect(real.check('GET', '/v1/files', 200, list.headers.get('content-type'), body)).toBeNull();

    // nextCursor documented as an array, as the documents once had it: the real answer no longer fits.
    const wrong = JSON.parse(JSON.stringify(real.document)) as OpenApiDocument & { components: { schemas: Record<string, any> } };
    wrong.components.schemas.FileList.properties.nextCursor = { type: 'array', items: { type: 'string' } };
    expect(new ContractChecker('upload-api', wrong).check('GET', '/v1/files', 200, list.headers.get('content-type'), body)).toMatch(
      /GET \/v1\/files 200 does not match its schema: \/nextCursor must be array/,
    );

    // An answer status the operation does not declare.
    expect(real.check('GET', '/v1/files', 202, 'application/json', body)).toMatch(/202 is not a documented answer of GET \/v1\/files/);
    // An error code the operation does not list for that status.
    const problem = {
      type: 'https://upload-platform.dev/problems/parts-missing',
      title: 'Parts are missing',
      status: 409,
      detail: 'x',
      code: 'parts_missing',
    };
    expect(real.check('DELETE', '/v1/files/00000000-0000-4000-8000-000000000000', 409, 'application/problem+json', JSON.stringify(problem))).toMatch(
      /does not match its schema: \/code must be equal to one of the allowed values/,
    );
  });
});
