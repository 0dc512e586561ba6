import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UsageError } from './exit-codes';
import { collectFiles } from './walk';

describe('collecting the files to upload', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'upl-walk-'));
  const photos = path.join(root, 'photos');
  beforeAll(() => {
    mkdirSync(path.join(photos, '2024', 'summer'), { recursive: true });
    mkdirSync(path.join(photos, 'empty'));
    writeFileSync(path.join(photos, 'b.jpg'), 'bb');
    writeFileSync(path.join(photos, 'a.jpg'), 'a');
    writeFileSync(path.join(photos, '2024', 'summer', 'beach.png'), 'beach!');
    writeFileSync(path.join(root, 'notes.txt'), 'notes');
    // A link back up the tree would never end if folders' links were followed; a link to a file is.
    symlinkSync(photos, path.join(photos, '2024', 'loop'));
    symlinkSync(path.join(root, 'notes.txt'), path.join(photos, 'notes-link.txt'));
    symlinkSync(path.join(root, 'gone'), path.join(photos, 'dangling'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('walks folders recursively, by name, naming files relative to the folder given', async () => {
    const files = await collectFiles(['photos'], root);
    expect(files.map((f) => f.relativePath)).toEqual(['photos/2024/summer/beach.png', 'photos/a.jpg', 'photos/b.jpg', 'photos/notes-link.txt']);
    expect(files[0]).toMatchObject({ path: path.join(photos, '2024', 'summer', 'beach.png'), size: 6 });
    expect(files[0].mtimeMs).toBeGreaterThan(0);
  });

  it('takes files as they are, in the order given, each once', async () => {
    const files = await collectFiles(['notes.txt', 'photos/b.jpg', path.join(root, 'notes.txt')], root);
    expect(files.map((f) => [f.relativePath, f.size])).toEqual([
      ['notes.txt', 5],
      ['b.jpg', 2],
    ]);
  });

  it('a path that does not exist is a usage error', async () => {
    await expect(collectFiles(['nope'], root)).rejects.toThrow(UsageError);
  });

  it('an empty folder gives no files', async () => {
    await expect(collectFiles(['photos/empty'], root)).resolves.toEqual([]);
  });
});
