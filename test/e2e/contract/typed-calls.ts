// Real calls typed only by what the OpenAPI documents promise: the types are generated from them
// by openapi-typescript (scripts/contract.mjs), and this file is type-checked against them there.
// A document that typed an answer wrongly (an answer as `never`, `nextCursor` as an array, a
// missing field) makes this file fail to compile, so the e2e tier fails before it runs.
import type { paths as SyncApi } from './generated/sync-notifier';
import type { paths as UploadApi } from './generated/upload-api';
import type { TypedFlowResult } from './typed-flow';

type CreateUpload = UploadApi['/v1/uploads']['post']['requestBody']['content']['application/json'];
type UploadCreated = UploadApi['/v1/uploads']['post']['responses'][201]['content']['application/json'];
type UploadRead = UploadApi['/v1/uploads/{id}']['get']['responses'][200]['content']['application/json'];
type FilePage = UploadApi['/v1/files']['get']['responses'][200]['content']['application/json'];
type FileRead = UploadApi['/v1/files/{id}']['get']['responses'][200]['content']['application/json'];
type Usage = UploadApi['/v1/usage']['get']['responses'][200]['content']['application/json'];
type NotFound = UploadApi['/v1/uploads/{id}']['get']['responses'][404]['content']['application/problem+json'];
type ChangePage = SyncApi['/v1/changes']['get']['responses'][200]['content']['application/json'];

async function json<T>(response: Response, status: number): Promise<T> {
  if (response.status !== status) throw new Error(`${response.url} answered ${response.status}, expected ${status}: ${await response.text()}`);
  return (await response.json()) as T;
}

/**
 * A small file through the whole path, every answer read through the generated types: create,
 * PUT the bytes to storage, wait until stored, list, read, usage, a 404's problem code, the change feed.
 */
export async function typedUploadFlow(api: string, sync: string, headers: Record<string, string>, bytes: Uint8Array): Promise<TypedFlowResult> {
  const body: CreateUpload = { filename: 'typed.txt', size: bytes.byteLength, contentType: 'text/plain' };
  const created = await json<UploadCreated>(
    await fetch(`${api}/v1/uploads`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    201,
  );
  if (created.mode !== 'single') throw new Error(`expected a single PUT, got ${created.mode} with ${created.partCount} parts`);
  const put = await fetch(created.upload.url, { method: created.upload.method, headers: created.upload.headers, body: bytes as Uint8Array<ArrayBuffer> });
  if (put.status !== 200) throw new Error(`PUT answered ${put.status}`);

  let upload: UploadRead;
  for (let i = 0; ; i++) {
    upload = await json<UploadRead>(await fetch(`${api}/v1/uploads/${created.id}?parts=ledger`, { headers }), 200);
    if (!['pending', 'uploading', 'completing'].includes(upload.status)) break;
    if (i > 200) throw new Error(`upload still ${upload.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const page = await json<FilePage>(await fetch(`${api}/v1/files?limit=1`, { headers }), 200);
  const nextCursor: string | null = page.nextCursor;
  const file = await json<FileRead>(await fetch(`${api}/v1/files/${created.id}`, { headers }), 200);
  const usage = await json<Usage>(await fetch(`${api}/v1/usage`, { headers }), 200);
  const missing = await json<NotFound>(await fetch(`${api}/v1/uploads/00000000-0000-4000-8000-000000000000`, { headers }), 404);
  const changes = await json<ChangePage>(await fetch(`${sync}/v1/changes`, { headers }), 200);
  return {
    id: created.id,
    mode: created.mode,
    status: upload.status,
    nextCursor,
    listed: page.items.map((f) => f.id),
    sha256: file.sha256,
    usedBytes: usage.owner.usedBytes,
    problemCode: missing.code,
    changeTypes: changes.changes.filter((c) => c.fileId === created.id).map((c) => c.type),
  };
}
