import { lstat, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from './exit-codes';

/** A local file to upload. */
export interface LocalFile {
  /** Absolute path. */
  path: string;
  /** As the person named it, relative to the folder given (`photos/2024/a.jpg`), or the file's name. */
  relativePath: string;
  size: number;
  mtimeMs: number;
}

/**
 * Expands the paths given on the command line into files: files as they are, folders
 * recursively. Symbolic links to files are followed; links to folders are not (a link back up
 * the tree would never end). A path named twice is uploaded once. Order: as given, and inside a
 * folder by name, so runs are repeatable.
 */
export async function collectFiles(paths: readonly string[], cwd: string = process.cwd()): Promise<LocalFile[]> {
  const files: LocalFile[] = [];
  const seen = new Set<string>();
  const add = (file: LocalFile) => {
    if (seen.has(file.path)) return;
    seen.add(file.path);
    files.push(file);
  };
  for (const given of paths) {
    const absolute = path.resolve(cwd, given);
    let info;
    try {
      info = await stat(absolute);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`no such file or folder: ${given}`);
      throw error;
    }
    if (info.isDirectory()) {
      for await (const file of walk(absolute, path.basename(absolute))) add(file);
    } else if (info.isFile()) {
      add({ path: absolute, relativePath: path.basename(absolute), size: info.size, mtimeMs: info.mtimeMs });
    } else {
      throw new UsageError(`not a file or folder: ${given}`);
    }
  }
  return files;
}

async function* walk(dir: string, relative: string): AsyncGenerator<LocalFile> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    const rel = `${relative}/${entry.name}`;
    if (entry.isDirectory()) {
      yield* walk(full, rel);
    } else if (entry.isFile()) {
      const info = await lstat(full);
      yield { path: full, relativePath: rel, size: info.size, mtimeMs: info.mtimeMs };
    } else if (entry.isSymbolicLink()) {
      const info = await stat(full).catch(() => null); // a dangling link is skipped
      if (info?.isFile()) yield { path: full, relativePath: rel, size: info.size, mtimeMs: info.mtimeMs };
    }
  }
}
