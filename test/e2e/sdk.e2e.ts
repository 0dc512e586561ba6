import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fromBytes, UploadClient } from '@app/sdk';
import { fromFile } from '../../libs/sdk/src/node';
import { createTenant, E2eStack, startStack } from './stack';

const MiB = 1024 ** 2;
const sha = (b: Buffer | Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('the SDK against the real stack', () => {
  let stack: E2eStack;
  let apiUrl: string;
  let apiKey: string;
  const dir = mkdtempSync(path.join(tmpdir(), 'upl-sdk-'));

  beforeAll(async () => {
    stack = await startStack();
    apiUrl = stack.service('upload-api').url;
    ({ apiKey } = await createTenant(stack, { name: 'sdk', quotaBytes: 10 * 1024 ** 3 }));
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const download = async (id: string) => {
    const res = await fetch(`${apiUrl}/v1/files/${id}/content`, { headers: { authorization: `Bearer ${apiKey}`, 'x-owner-id': 'alice' } });
    return Buffer.from(await res.arrayBuffer());
  };

  it.each([
    ['0 B', 0],
    ['1 KiB', 1024],
    ['5 MiB', 5 * MiB],
    ['100 MiB', 100 * MiB],
  ])('%s: uploaded only once its S3 event arrived; the download hashes to the source', async (_, size) => {
    const client = new UploadClient({ baseUrl: apiUrl, token: apiKey, ownerId: 'alice' });
    const bytes = randomBytes(size);
    const upload = client.upload(fromBytes(bytes), { filename: `sdk-${size}.bin`, concurrency: 4 });
    const result = await upload.done;
    // `done` means storage holds the bytes and completion was asked for; the event decides after that.
    expect(['pending', 'completing', 'uploaded']).toContain(result.status);
    const stored = await client.waitUntilStored(result.id, { timeoutMs: 60_000 });
    expect(['uploaded', 'processing', 'ready']).toContain(stored.status);
    const events = await stack.sql<{ processed_at: Date }>('SELECT processed_at FROM processed_storage_events WHERE file_id = $1 ORDER BY processed_at', [
      result.id,
    ]);
    const [file] = await stack.sql<{ uploaded_at: Date }>('SELECT uploaded_at FROM files WHERE id = $1', [result.id]);
    expect(events.length).toBeGreaterThan(0);
    // The service stamps uploaded_at just before the transaction that records the event, whose
    // processed_at Postgres stamps at that transaction's start: two clocks, a few ms apart (5 ms
    // of slack flaked in CI). A transition made before the event arrived would be seconds earlier.
    expect(file.uploaded_at.getTime()).toBeGreaterThanOrEqual(events[0].processed_at.getTime() - 1000);
    expect(sha(await download(result.id))).toBe(sha(bytes));
  });

  it('a client killed at about 60% of a 200 MiB upload: another process resumes and sends only the missing parts', async () => {
    const size = 200 * MiB;
    const file = path.join(dir, 'big.bin');
    const bytes = randomBytes(size);
    writeFileSync(file, bytes);

    const child = spawn(process.execPath, [path.join(__dirname, 'fixtures/upload-child.cjs'), apiUrl, apiKey, 'alice', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const id = await new Promise<string>((resolve, reject) => {
      let buffered = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        for (const line of buffered.split('\n').slice(0, -1)) {
          const event = JSON.parse(line) as { event: string; id: string; bytesUploaded: number; totalBytes: number };
          if (event.event === 'progress' && event.bytesUploaded >= 0.6 * event.totalBytes) {
            child.kill('SIGKILL');
            resolve(event.id);
          }
        }
        buffered = buffered.slice(buffered.lastIndexOf('\n') + 1);
      });
      child.once('exit', (code, signal) => (signal === 'SIGKILL' ? undefined : reject(new Error(`child exited ${code} before 60%`))));
    });

    let sentToStorage = 0;
    const counting: typeof fetch = async (input, init) => {
      const url = input instanceof Request ? input.url : input.toString();
      // Part bodies are streamed (a ReadableStream with an explicit content-length).
      if (!url.startsWith(apiUrl) && init?.method === 'PUT') sentToStorage += Number(new Headers(init.headers).get('content-length'));
      return fetch(input, init);
    };
    const client = new UploadClient({ baseUrl: apiUrl, token: apiKey, ownerId: 'alice', fetch: counting });
    const before = await client.api.get(id);
    const held = before.uploadedParts.reduce((sum, p) => sum + p.size, 0);
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(size);

    const source = await fromFile(file);
    await client.resume(id, source, { concurrency: 4 }).done;
    await source.close();
    const missing = size - held;
    process.stdout.write(
      `resume: storage held ${held} of ${size} bytes; the resuming process sent ${sentToStorage} (missing ${missing}, part ${before.partSize})\n`,
    );
    // At most the missing parts plus one (a part the killed process had fully sent may still land
    // in storage after this test looked, so the resumer can need even less).
    expect(sentToStorage).toBeGreaterThan(0);
    expect(sentToStorage).toBeLessThanOrEqual(missing + before.partSize!);
    expect(sentToStorage % before.partSize!).toBe(0);

    expect(['uploaded', 'processing', 'ready']).toContain((await client.waitUntilStored(id, { timeoutMs: 60_000 })).status);
    expect(sha(await download(id))).toBe(sha(bytes));
  });
});
