import { ListPartsCommand } from '@aws-sdk/client-s3';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { testPresigner } from '@app/testing';
import { createTenant, E2eStack, sleep, startStack, until } from './stack';

/**
 * `upl`, the CLI (packages/cli), as a person runs it: the esbuild bundle as a child process
 * against the four services. The upload of a folder is killed with SIGKILL in the middle of its
 * 200 MiB file; the same command run again sends only the parts storage lacked, which the CLI's
 * --json result and storage's own part list (ListParts: ETags and LastModified) both show.
 */

const MiB = 1024 ** 2;
const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'packages/cli/dist/upl.cjs');
const STORED = ['uploaded', 'processing', 'ready'];
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  lines: any[];
}

describe('upl, the CLI, against the real stack', () => {
  let stack: E2eStack;
  let apiKey: string;
  const dir = mkdtempSync(path.join(tmpdir(), 'upl-cli-'));
  const folder = path.join(dir, 'photos');
  const stateDir = path.join(dir, 'state');
  const hashes = new Map<string, string>(); // relative path -> sha256
  /** Relative path -> file id, from the upload results. */
  const ids = new Map<string, string>();
  /** Cursors of the changes the first `upl watch` printed. */
  let firstWatch: string[] = [];

  const env = (extra: Record<string, string> = {}) => ({
    PATH: process.env.PATH ?? '',
    HOME: dir,
    XDG_CONFIG_HOME: path.join(dir, 'config'),
    UPL_URL: stack.service('upload-api').url,
    UPL_SYNC_URL: stack.service('sync-notifier').url,
    UPL_TOKEN: apiKey,
    UPL_OWNER: 'alice',
    UPL_STATE_DIR: stateDir,
    ...extra,
  });
  const start = (args: string[], extra?: Record<string, string>): ChildProcess => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, env: env(extra), stdio: ['ignore', 'pipe', 'pipe'] });
    const output = { stdout: '', stderr: '' };
    child.stdout.on('data', (c: Buffer) => (output.stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output.stderr += c.toString()));
    outputs.set(child, output);
    running.add(child);
    child.once('close', () => running.delete(child));
    return child;
  };
  const finish = (child: ChildProcess): Promise<Run> =>
    new Promise((resolve) => {
      child.once('close', (code) => {
        const { stdout, stderr } = outputs.get(child)!;
        resolve({ code, stdout, stderr, lines: jsonLines(stdout) });
      });
    });
  const upl = (args: string[], extra?: Record<string, string>) => finish(start(args, extra));

  const bigEntry = (): { uploadId: string } | undefined => {
    const file = path.join(stateDir, 'upl-state.json');
    if (!existsSync(file)) return undefined;
    const state = JSON.parse(readFileSync(file, 'utf8')) as { uploads: Record<string, { path: string; uploadId: string }> };
    return Object.values(state.uploads).find((e) => e.path === path.join(folder, 'big.bin'));
  };
  const getUpload = async (id: string) => {
    const res = await fetch(`${stack.service('upload-api').url}/v1/uploads/${id}`, { headers: { authorization: `Bearer ${apiKey}`, 'x-owner-id': 'alice' } });
    return (await res.json()) as { status: string; partCount: number; uploadedParts: Array<{ partNumber: number }> };
  };
  /** Storage's own list of the parts of a multipart upload (not the API's, not the CLI's). */
  const storageParts = async (fileId: string) => {
    const [row] = await stack.sql<{ storage_key: string; s3_upload_id: string }>('SELECT storage_key, s3_upload_id FROM files WHERE id = $1', [fileId]);
    const { s3 } = testPresigner(stack.storage);
    try {
      const out = await s3.send(new ListPartsCommand({ Bucket: stack.storage.S3_BUCKET, Key: row.storage_key, UploadId: row.s3_upload_id, MaxParts: 1000 }));
      return new Map((out.Parts ?? []).map((p) => [p.PartNumber!, { etag: p.ETag!, lastModified: p.LastModified!.getTime() }]));
    } finally {
      s3.destroy();
    }
  };

  beforeAll(async () => {
    execFileSync(process.execPath, [path.join(ROOT, 'packages/cli/build.mjs')], { stdio: 'ignore' });
    stack = await startStack();
    ({ apiKey } = await createTenant(stack, { name: 'cli', quotaBytes: 10 * 1024 ** 3 }));
    // 19 small random files (some in a subfolder) and one of 200 MiB.
    mkdirSync(path.join(folder, '2024'), { recursive: true });
    const write = (relative: string, bytes: Buffer) => {
      writeFileSync(path.join(folder, relative), bytes);
      hashes.set(`photos/${relative}`, sha(bytes));
    };
    write('big.bin', randomBytes(200 * MiB));
    for (let i = 1; i <= 19; i++) write(`${i % 3 === 0 ? '2024/' : ''}small-${String(i).padStart(2, '0')}.bin`, randomBytes(1024 + i * 9_973));
  });
  // A test that failed while chunk-tracker was stopped must not leave the next ones without it.
  let trackerStopped = false;
  afterEach(async () => {
    if (!trackerStopped) return;
    await stack.restart('chunk-tracker');
    trackerStopped = false;
  });
  afterAll(async () => {
    // A test that failed before stopping its `upl watch` must not leave it running.
    for (const child of running) child.kill('SIGKILL');
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('uploads a folder; SIGKILLed mid-way through 200 MiB, the same command sends only the parts storage lacked, and every file arrives whole', async () => {
    // The change feed, followed live from before the first byte.
    const watch = start(['--json', 'watch']);
    const watched = finish(watch);

    const first = start(['--json', 'upload', folder, '--concurrency', '2']);
    const firstDone = finish(first);
    // The id is in the state file as soon as the upload exists; storage then holds some parts.
    const { uploadId: bigId } = await until('the 200 MiB upload in the state file', bigEntry, 30_000, 20);
    await until('storage holding parts of the 200 MiB file', async () => (await getUpload(bigId)).uploadedParts.length >= 2, 30_000, 50);
    first.kill('SIGKILL');
    expect((await firstDone).code).toBeNull();

    // Completion is chunk-tracker's job: without it, storage keeps listing the upload's parts
    // after the re-run asked for completion, so its own record shows which parts the re-run sent.
    await sleep(1_000); // a part whose bytes had all reached storage when the client died still lands
    await stack.service('chunk-tracker').stop('SIGTERM');
    trackerStopped = true;
    const held = await storageParts(bigId);
    const { partCount } = await getUpload(bigId);
    expect(partCount).toBe(25); // 8 MiB parts
    expect(held.size).toBeGreaterThanOrEqual(2);
    expect(held.size).toBeLessThan(partCount);

    const rerunStart = Date.now();
    const rerun = await upl(['--json', 'upload', folder]);
    expect(rerun.stderr).toBe('');
    expect(rerun.code).toBe(0);
    const results = rerun.lines.filter((l) => l.path);
    expect(results).toHaveLength(20);
    for (const r of results) ids.set(r.name, r.id);
    const big = results.find((r) => r.name === 'photos/big.bin');
    // The CLI's account: it continued the same upload and sent exactly what storage lacked.
    expect(big).toMatchObject({ id: bigId, action: 'resumed', partCount, partsSkipped: held.size, partsSent: partCount - held.size });
    expect(big.bytesSent).toBe((partCount - held.size) * 8 * MiB);
    // A small file the kill also caught mid-way (on a loaded machine) is resumed as well, never sent twice.
    const resumed = results.filter((r) => r.action === 'resumed');
    for (const r of resumed) expect(r.partsSkipped + r.partsSent).toBe(r.partCount);
    expect(rerun.lines.at(-1).summary).toMatchObject({ files: 20, failed: 0, resumed: resumed.length });

    // Storage's account: the parts held before are the very same objects (ETag and LastModified
    // unchanged); every other part was written by the re-run.
    const after = await storageParts(bigId);
    expect(after.size).toBe(partCount);
    for (const [n, part] of held) expect(after.get(n)).toEqual(part);
    const written = [...after].filter(([n]) => !held.has(n));
    expect(written).toHaveLength(partCount - held.size);
    for (const [, part] of written) expect(part.lastModified).toBeGreaterThanOrEqual(Math.floor(rerunStart / 1000) * 1000);

    // With the tracker back, storage's events and the completion job mark all 20 files stored.
    await stack.restart('chunk-tracker');
    trackerStopped = false;
    let listing: any[] = [];
    await until(
      'all 20 files stored',
      async () => {
        listing = (await upl(['--json', 'ls', '--all'])).lines;
        return listing.length === 20 && listing.every((f) => STORED.includes(f.status));
      },
      60_000,
      500,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; ls: ${JSON.stringify(listing.map((f) => [f.filename, f.status]))}`);
    });
    // The bytes are right: each file downloaded through the CLI hashes like its source.
    const downloads = path.join(dir, 'downloads');
    mkdirSync(downloads);
    for (const [name, id] of ids) {
      const target = path.join(downloads, name.replace(/\//g, '_'));
      const dl = await upl(['--json', 'download', id, '-o', target, '--progress', 'none']);
      expect(dl).toMatchObject({ code: 0, stderr: '' });
      expect(sha(readFileSync(target))).toBe(hashes.get(name));
      expect(dl.lines[0]).toMatchObject({ id, sha256: hashes.get(name) });
    }

    // The live watch saw the 200 MiB upload created and then stored.
    await until('the watch to see the 200 MiB file uploaded', () => watchTypes(watch, bigId).includes('file.uploaded'), 20_000);
    watch.kill('SIGINT');
    const w = await watched;
    expect(w.code).toBe(0);
    const types = w.lines.filter((c) => c.fileId === bigId).map((c) => c.type);
    expect(types[0]).toBe('upload.created');
    expect(types).toContain('file.uploaded');
    expect(ids.size).toBe(20);
    firstWatch = w.lines.map((c) => c.cursor);
  });

  it('Ctrl-C stops an upload cleanly (exit 130, how to resume said); `upl resume` finishes it', async () => {
    const file = path.join(dir, 'interrupted.bin');
    const bytes = randomBytes(48 * MiB);
    writeFileSync(file, bytes);
    const child = start(['upload', file, '--concurrency', '1', '--progress', 'line']);
    const done = finish(child);
    const entry = await until(
      'the upload in the state file',
      () => {
        const state = JSON.parse(readFileSync(path.join(stateDir, 'upl-state.json'), 'utf8')) as {
          uploads: Record<string, { path: string; uploadId: string }>;
        };
        return Object.values(state.uploads).find((e) => e.path === file);
      },
      30_000,
      20,
    );
    await until('a part in storage', async () => (await getUpload(entry.uploadId)).uploadedParts.length >= 1, 30_000, 20);
    child.kill('SIGINT');
    const interrupted = await done;
    expect(interrupted.code).toBe(130);
    expect(interrupted.stderr).toContain('upl resume');
    const held = (await getUpload(entry.uploadId)).uploadedParts.length;

    const resumed = await upl(['--json', 'resume']);
    expect(resumed.code).toBe(0);
    const [result] = resumed.lines.filter((l) => l.path === file);
    expect(result).toMatchObject({ id: entry.uploadId, action: 'resumed', partCount: 6 });
    expect(result.partsSkipped).toBeGreaterThanOrEqual(held);
    expect(result.partsSkipped + result.partsSent).toBe(6);
    // Stored once storage's event has come through SQS and chunk-tracker: seconds, more on a loaded machine.
    await until('the resumed file stored', async () => STORED.includes((await getUpload(entry.uploadId)).status), 120_000, 200);
    const target = path.join(dir, 'interrupted.out');
    expect(await upl(['download', entry.uploadId, '-o', target, '--progress', 'none'])).toMatchObject({ code: 0, stderr: '' });
    expect(sha(readFileSync(target))).toBe(sha(bytes));
  });

  it('ls (with filters), info, rm, the watch cursor, and the exit codes scripts rely on', async () => {
    const bigId = ids.get('photos/big.bin')!;
    const listed = await upl(['--json', 'ls', '--name', 'small-0']);
    expect(listed.code).toBe(0);
    expect(listed.lines.map((f) => f.filename).sort()).toEqual([
      'small-01.bin',
      'small-02.bin',
      'small-03.bin',
      'small-04.bin',
      'small-05.bin',
      'small-06.bin',
      'small-07.bin',
      'small-08.bin',
      'small-09.bin',
    ]);
    const human = await upl(['ls', '--limit', '3']);
    expect(human.stdout.split('\n')[0]).toMatch(/^ID\s+STATUS\s+SIZE\s+TYPE\s+CREATED\s+NAME$/);
    expect(human.stdout.trim().split('\n')).toHaveLength(4);

    // The sha256 of a file the client sent without one is known once verification has read it (200 MiB: a while).
    const info = await until(
      'the big file verified',
      async () => {
        const answer = await upl(['--json', 'info', bigId]);
        expect(answer.code).toBe(0);
        return answer.lines[0]?.sha256 ? answer : null;
      },
      120_000,
      500,
    );
    expect(info.lines[0]).toMatchObject({ id: bigId, filename: 'big.bin', size: 200 * MiB, sha256: hashes.get('photos/big.bin') });

    // The cursor of the last change the earlier watch printed is remembered: a new watch starts after it.
    const state = JSON.parse(readFileSync(path.join(stateDir, 'upl-state.json'), 'utf8')) as { cursors: Record<string, string> };
    expect(Object.values(state.cursors)).toEqual([firstWatch.at(-1)]);

    const victim = ids.get('photos/small-01.bin')!;
    const rm = await upl(['--json', 'rm', victim]);
    expect(rm.code).toBe(0);
    expect(rm.lines[0]).toEqual({ id: victim, action: 'deleted' });
    expect((await upl(['info', victim])).code).toBe(4);

    const watch = start(['--json', 'watch']);
    const watched = finish(watch);
    await until('the new watch to see the deletion', () => watchTypes(watch, victim).includes('file.deleted'), 20_000);
    watch.kill('SIGINT');
    const w = await watched;
    expect(w.code).toBe(0);
    // Nothing the first watch printed is printed again.
    expect(w.lines.filter((c) => firstWatch.includes(c.cursor))).toEqual([]);

    // Exit codes: auth 3, not found 4, usage 2 (each with the API problem's code on stderr).
    const badToken = await upl(['ls'], { UPL_TOKEN: 'upk_not-a-real-key' });
    expect(badToken.code).toBe(3);
    expect(badToken.stderr).toMatch(/unauthorized \(401\)/);
    const unknown = await upl(['info', '00000000-0000-4000-8000-000000000000']);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toMatch(/not_found \(404\)/);
    expect((await upl(['rm', '00000000-0000-4000-8000-000000000000'])).code).toBe(4);
    const badFlag = await upl(['ls', '--colour']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain("unknown option '--colour'");
    expect((await upl(['ls'], { UPL_URL: '' })).code).toBe(2);
    expect((await upl(['ls', '--limit', 'many'])).code).toBe(2);
  });

  it('tenants create (the key it prints works) and the other admin commands', async () => {
    const admin = { UPL_ADMIN_TOKEN: stack.env.ADMIN_TOKEN, UPL_TOKEN: '', UPL_OWNER: '' };
    const created = await upl(['--json', 'tenants', 'create', 'cli-team', '--quota', '5GiB', '--allowed-types', 'image/*,text/plain'], admin);
    expect(created.code).toBe(0);
    const tenant = created.lines[0];
    expect(tenant).toMatchObject({ name: 'cli-team', quotaBytes: 5 * 1024 ** 3, allowedTypes: ['image/*', 'text/plain'] });
    expect(tenant.apiKey).toMatch(/^upk_/);
    const asTenant = await upl(['--json', 'ls'], { UPL_TOKEN: tenant.apiKey, UPL_OWNER: 'bob' });
    expect(asTenant.code).toBe(0);
    expect(asTenant.lines).toEqual([]);
    // Without the admin token, admin commands are refused (3).
    expect((await upl(['--admin-token', apiKey, 'tenants', 'create', 'x'])).code).toBe(3);

    expect((await upl(['--json', 'tenants', 'ls'], admin)).lines.map((t) => t.id)).toContain(tenant.id);
    const updated = await upl(['--json', 'tenants', 'update', tenant.id, '--quota', '1GiB', '--name', 'cli-team-2'], admin);
    expect(updated.lines[0]).toMatchObject({ id: tenant.id, name: 'cli-team-2', quotaBytes: 1024 ** 3 });
    expect((await upl(['--json', 'tenants', 'get', tenant.id], admin)).lines[0]).toMatchObject({ name: 'cli-team-2', usage: { files: 0 } });

    const rotated = (await upl(['--json', 'keys', 'rotate', tenant.id, '--grace', '0'], admin)).lines[0];
    expect(rotated.apiKey).toMatch(/^upk_/);
    const keys = (await upl(['--json', 'keys', 'ls', tenant.id], admin)).lines;
    expect(keys.map((k) => k.id)).toContain(rotated.id);
    expect((await upl(['ls'], { UPL_TOKEN: rotated.apiKey, UPL_OWNER: 'bob' })).code).toBe(0);
    expect((await upl(['--json', 'keys', 'revoke', tenant.id, rotated.id], admin)).code).toBe(0);
    expect((await upl(['--json', 'tenants', 'rm', tenant.id], admin)).lines[0]).toMatchObject({ id: tenant.id, status: 'deleted' });
    expect((await upl(['tenants', 'get', tenant.id], admin)).code).toBe(4);
  });
});

/** The CLI processes still running. */
const running = new Set<ChildProcess>();

/** What each CLI process printed so far. */
const outputs = new WeakMap<ChildProcess, { stdout: string; stderr: string }>();

function jsonLines(text: string): any[] {
  return text
    .split('\n')
    .slice(0, -1) // the last piece is empty, or a line still being written
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}

/** The change types a running `upl --json watch` printed so far for one file. */
function watchTypes(watch: ChildProcess, fileId: string): string[] {
  return jsonLines(outputs.get(watch)!.stdout)
    .filter((c: { fileId: string }) => c.fileId === fileId)
    .map((c: { type: string }) => c.type);
}
