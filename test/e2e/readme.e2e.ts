import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { E2eStack, startStack } from './stack';

const ROOT = path.resolve(__dirname, '../..');
const README = path.join(ROOT, 'README.md');
const run = promisify(execFile);

/** A fenced block of the README and the readme-test marker on the last non-blank line above its fence. */
interface Block {
  line: number;
  lang: string;
  marker: 'run' | 'skip' | null;
  code: string;
}

const SHELL = new Set(['sh', 'bash', 'shell']);
/** Statuses of a file storage has confirmed (the state machine's stored ones a fresh upload reaches). */
const STORED = ['uploaded', 'processing', 'ready'];
const MARKER = /^<!--\s*readme-test:\s*(run|skip)\b.*-->$/;

/** The fenced code blocks of a markdown text, in order (the README convention: README.md, "Tests"). */
function fencedBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,}|~{3,})\s*([\w-]*)/.exec(lines[i]);
    if (!open) continue;
    let above = i - 1;
    while (above >= 0 && lines[above].trim() === '') above--;
    const marker = above >= 0 ? (MARKER.exec(lines[above].trim())?.[1] as Block['marker']) : undefined;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !new RegExp(`^${open[1][0]}{${open[1].length},}\\s*$`).test(lines[i]); i++) body.push(lines[i]);
    blocks.push({ line: start + 1, lang: open[2], marker: marker ?? null, code: body.join('\n') });
  }
  return blocks;
}

/** What the walk-through prints that the test reads: usage answers and a page of the change feed. */
interface Printed {
  owner?: { usedBytes?: number };
  changes?: Array<{ type: string }>;
}

/** Writes the env file exactly as `npm run up` does (scripts/stack-env.mjs), for this stack. */
async function writeStackEnv(stack: E2eStack, file: string): Promise<Record<string, string>> {
  await run('node', [path.join(ROOT, 'scripts/stack-env.mjs'), file], {
    env: {
      PATH: process.env.PATH,
      API_URL: stack.service('upload-api').url,
      SYNC_URL: stack.service('sync-notifier').url,
      ADMIN_TOKEN: stack.env.ADMIN_TOKEN,
    },
  });
  const vars: Record<string, string> = {};
  for (const m of readFileSync(file, 'utf8').matchAll(/^export (\w+)='([^']*)'$/gm)) vars[m[1]] = m[2];
  return vars;
}

describe('the README', () => {
  const blocks = fencedBlocks(readFileSync(README, 'utf8'));
  const runnable = blocks.filter((b) => b.marker === 'run');
  let stack: E2eStack;
  const temp = mkdtempSync(path.join(tmpdir(), 'upl-readme-'));

  beforeAll(async () => {
    stack = await startStack();
  });

  afterAll(async () => {
    await stack?.stop();
    rmSync(temp, { recursive: true, force: true });
  });

  it('marks every shell block to run or to skip, and "Using it" is runnable', () => {
    const unmarked = blocks.filter((b) => SHELL.has(b.lang) && !b.marker).map((b) => `README.md:${b.line}`);
    expect(unmarked).toEqual([]);
    expect(runnable.every((b) => SHELL.has(b.lang))).toBe(true);
    const lines = readFileSync(README, 'utf8').split('\n');
    const start = lines.indexOf('## Using it') + 1; // line numbers from 1
    const end = lines.findIndex((l, i) => i >= start && l.startsWith('## ')) + 1;
    expect(runnable.filter((b) => b.line > start && b.line < end).length).toBeGreaterThanOrEqual(4);
  });

  it('keeps one dev tenant in the env file while its key works, and makes a new one when it stops working', async () => {
    const file = path.join(temp, 'env-check', 'env');
    const first = await writeStackEnv(stack, file);
    expect(Object.keys(first)).toEqual(['API_URL', 'SYNC_URL', 'ADMIN_TOKEN', 'API_KEY', 'UPLOAD_PLATFORM']);
    expect(first.ADMIN_TOKEN).toBe(stack.env.ADMIN_TOKEN);
    expect((await writeStackEnv(stack, file)).API_KEY).toBe(first.API_KEY);
    expect(await stack.sql(`SELECT id FROM tenants WHERE name = 'dev'`)).toHaveLength(1);
    expect(statSync(file).mode & 0o777).toBe(0o600); // it holds credentials

    // A key the database does not know (the file outlived its database): the next run replaces it.
    writeFileSync(file, readFileSync(file, 'utf8').replace(first.API_KEY, 'upk_forgotten'));
    const replaced = await writeStackEnv(stack, file);
    expect(replaced.API_KEY).not.toBe(first.API_KEY);
    expect(await stack.sql(`SELECT id FROM tenants WHERE name = 'dev'`)).toHaveLength(2);
  });

  it('"Using it" runs as written in a new shell: the file comes back as it went up, and usage counts it', async () => {
    const work = path.join(temp, 'work');
    mkdirSync(work);
    await writeStackEnv(stack, path.join(work, '.stack', 'env'));
    // Every runnable block in order, in one shell, as a reader pastes them; each announces itself on stderr.
    const script = ['set -euo pipefail', ...runnable.map((b) => `echo 'readme-test: README.md:${b.line}' >&2\n${b.code}`)].join('\n');
    const scriptFile = path.join(temp, 'readme.sh');
    writeFileSync(scriptFile, script);
    let stdout: string;
    try {
      ({ stdout } = await run('bash', [scriptFile], { cwd: work, env: { PATH: process.env.PATH, HOME: process.env.HOME }, timeout: 120_000 }));
    } catch (error) {
      const e = error as { code?: number; signal?: string; stdout?: string; stderr?: string };
      const failed = [...(e.stderr ?? '').matchAll(/readme-test: (README\.md:\d+)/g)].pop()?.[1];
      throw new Error(`the README's block at ${failed} failed (exit ${e.code ?? e.signal}):\n${e.stderr}\n--- stdout ---\n${e.stdout}`, { cause: error });
    }

    // The walk-through's own files, in its scratch folder.
    const scratch = path.join(work, '.stack', 'try');
    const uploaded = readFileSync(path.join(scratch, 'hello.txt'));
    expect(readFileSync(path.join(scratch, 'copy.txt')).equals(uploaded)).toBe(true);
    expect(stdout.split('\n').filter((l) => STORED.includes(l))).toHaveLength(3); // wait_stored once per curl upload, and the SDK's script

    // What the database holds, apart from anything the README printed: the walk-through's tenant
    // has one file of each upload mode, each stored.
    const files = await stack.sql<{ mode: string; status: string; size: string }>(
      `SELECT f.mode, f.status, f.size::text FROM files f JOIN tenants t ON t.id = f.tenant_id WHERE t.name = 'docs' AND f.owner_id = 'alice' ORDER BY f.created_at`,
    );
    // curl's single PUT and parts, then the SDK's file (in parts too).
    expect(files.map((f) => f.mode)).toEqual(['single', 'multipart', 'multipart']);
    for (const f of files) expect(STORED).toContain(f.status);
    expect(files[0].size).toBe(String(uploaded.length));
    expect(files[2].size).toBe(String(statSync(path.join(scratch, 'numbers.txt')).size));
    // Usage was asked before the SDK's upload.
    const total = files.slice(0, 2).reduce((n, f) => n + Number(f.size), 0);

    // The answers it printed, one JSON document a line: usage (the owner's, then with the tenant's totals) and the change feed.
    const answers = stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Printed);
    const usage = answers.filter((a) => a.owner?.usedBytes !== undefined);
    expect(usage).toEqual([
      { owner: { ownerId: 'alice', usedBytes: total, reservedBytes: 0, files: 2 } },
      {
        owner: { ownerId: 'alice', usedBytes: total, reservedBytes: 0, files: 2 },
        tenant: { usedBytes: total, reservedBytes: 0, files: 2, quotaBytes: expect.any(Number) },
      },
    ]);
    const feed = answers.find((a) => Array.isArray(a.changes));
    expect(feed?.changes?.filter((c) => c.type === 'file.uploaded')).toHaveLength(2);
  });
});
