import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { entryKey, StateStore, STATE_FILE, targetOf } from './state-store';

const file = { path: '/data/big.bin', size: 200, mtimeMs: 1_700_000_000_123.4 };
const target = targetOf('http://api.example/', 'alice');
const entry = (uploadId: string, status: 'sending' | 'sent' | 'stored' = 'sending') => ({ ...file, target, uploadId, status });

describe('the state store', () => {
  let dir: string;
  let now: number;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'upl-state-'));
    now = Date.parse('2026-12-01T00:00:00Z');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const store = () => new StateStore(path.join(dir, 'upl'), () => now);

  it('keys a file by target, absolute path, size and mtime: a changed file is another upload', () => {
    const key = entryKey(target, file);
    expect(entryKey(target, { ...file })).toBe(key);
    expect(entryKey(target, { ...file, size: 201 })).not.toBe(key);
    expect(entryKey(target, { ...file, mtimeMs: file.mtimeMs + 1000 })).not.toBe(key);
    expect(entryKey(targetOf('http://api.example', 'bob'), file)).not.toBe(key);
    expect(targetOf('http://api.example/', 'alice')).toBe(targetOf('http://api.example', 'alice'));
  });

  it('writes an upload id to disk at once; a new process (a re-run) reads it back', async () => {
    const key = entryKey(target, file);
    await store().put(key, entry('u-1'));
    expect(JSON.parse(readFileSync(path.join(dir, 'upl', STATE_FILE), 'utf8')).uploads[key].uploadId).toBe('u-1');
    expect(await store().get(key)).toMatchObject({ uploadId: 'u-1', status: 'sending', updatedAt: '2026-12-01T00:00:00.000Z' });
  });

  it('lists unfinished uploads of a target; stored ones are not unfinished', async () => {
    const s = store();
    await s.put('a', entry('u-a'));
    await s.put('b', entry('u-b', 'sent'));
    await s.put('c', entry('u-c', 'stored'));
    await s.put('d', { ...entry('u-d'), target: targetOf('http://other', undefined) });
    expect((await s.unfinished(target)).map(([k]) => k).sort()).toEqual(['a', 'b']);
    expect((await s.unfinished()).map(([k]) => k).sort()).toEqual(['a', 'b', 'd']);
  });

  it('serialises concurrent changes: none is lost', async () => {
    const s = store();
    await Promise.all(Array.from({ length: 20 }, (_, i) => s.put(`k${i}`, entry(`u-${i}`))));
    expect((await s.unfinished(target)).length).toBe(20);
  });

  it('two processes writing at the same time (an upload and a watch) lose nothing: the lock file serialises them', async () => {
    const upload = store();
    const watch = store();
    await Promise.all([
      ...Array.from({ length: 15 }, (_, i) => upload.put(`k${i}`, entry(`u-${i}`))),
      ...Array.from({ length: 15 }, (_, i) => watch.setCursor(target, String(i))),
    ]);
    expect((await store().unfinished(target)).length).toBe(15);
    expect(await store().cursor(target)).toBe('14');
    expect(existsSync(`${upload.file}.lock`)).toBe(false);
  });

  it('takes over a lock left by a process that died holding it', async () => {
    const s = store();
    mkdirSync(s.dir, { recursive: true });
    writeFileSync(`${s.file}.lock`, '999999');
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${s.file}.lock`, old, old);
    await s.put('a', entry('u-a'));
    expect(await store().get('a')).toBeDefined();
  });

  it('merges with what another process wrote meanwhile', async () => {
    const first = store();
    const second = store();
    await first.put('a', entry('u-a'));
    await second.put('b', entry('u-b'));
    await first.put('c', entry('u-c'));
    expect((await store().unfinished(target)).map(([k]) => k).sort()).toEqual(['a', 'b', 'c']);
  });

  it('forgets every entry of a file deleted on the server', async () => {
    const s = store();
    await s.put('a', entry('u-a', 'stored'));
    await s.put('b', entry('u-b'));
    await s.forgetUpload(target, 'u-a');
    expect(await s.get('a')).toBeUndefined();
    expect(await s.get('b')).toBeDefined();
  });

  it('forgets stored uploads after 30 days, keeps unfinished ones', async () => {
    const s = store();
    await s.put('old-stored', entry('u-1', 'stored'));
    await s.put('old-unfinished', entry('u-2'));
    now += 31 * 24 * 3600 * 1000;
    await s.put('new', entry('u-3'));
    expect(await s.get('old-stored')).toBeUndefined();
    expect(await s.get('old-unfinished')).toBeDefined();
  });

  it('remembers the watch cursor per target', async () => {
    const s = store();
    await s.setCursor(target, '41');
    await s.setCursor(targetOf('http://other', undefined), '7');
    expect(await store().cursor(target)).toBe('41');
  });

  it('a damaged state file costs re-sending, not a crash: it reads as empty', async () => {
    const s = store();
    await s.put('a', entry('u-a'));
    writeFileSync(s.file, '{"uploads": {"a": ');
    expect(await store().get('a')).toBeUndefined();
    await store().put('b', entry('u-b'));
    expect(await store().get('b')).toBeDefined();
  });
});
