import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DockerfileParser, Instruction } from 'dockerfile-ast';
import { Client } from 'pg';
import { createEmptyDatabase, TestDatabase, testConfig } from '@app/testing';
import { K8sObject, render } from './k8s-rules';

/**
 * The migration Job (k8s/base/migrate-job.yaml) on its image (the Dockerfile's `migrate` stage),
 * against an empty database. There is no Docker engine on these machines, so the test builds the
 * image's /app the way `docker build` would from the stage's COPY instructions, runs the Job's
 * command there with the Job's environment, as the image's non-root user and with /app not
 * writable (the Job's readOnlyRootFilesystem), and reads back what Postgres holds.
 */
const ROOT = path.resolve(__dirname, '../..');
const STAGE = 'migrate';
const NODE_UID = 1000; // the `node` user of the official Node images, and the Job's runAsUser

interface Stage {
  name: string;
  instructions: Instruction[];
}

function stages(): Stage[] {
  const all: Stage[] = [];
  for (const instruction of DockerfileParser.parse(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8')).getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const args = instruction.getArguments().map((a) => a.getValue());
      all.push({ name: args[2] ?? '', instructions: [] });
    } else all.at(-1)?.instructions.push(instruction);
  }
  return all;
}

const stage = (name: string): Stage => {
  const found = stages().find((s) => s.name === name);
  if (!found) throw new Error(`the Dockerfile has no stage ${name}`);
  return found;
};
const only = (s: Stage, keyword: string): Instruction[] => s.instructions.filter((i) => i.getKeyword() === keyword);
const json = (i: Instruction): string[] => JSON.parse(i.getArgumentsContent() ?? '[]') as string[];

interface Copy {
  from: string | null;
  sources: string[];
  destination: string;
}

function copies(s: Stage): Copy[] {
  return only(s, 'COPY').map((i) => {
    const flags = (i as Instruction & { getFlags(): { getName(): string; getValue(): string | null }[] }).getFlags();
    const args = i.getArguments().map((a) => a.getValue());
    return { from: flags.find((f) => f.getName() === 'from')?.getValue() ?? null, sources: args.slice(0, -1), destination: args.at(-1) ?? '' };
  });
}

/** Where a COPY puts each source, relative to the stage's WORKDIR (/app in every stage here). */
function destinations(copy: Copy): [source: string, destination: string][] {
  const relative = (p: string) => path.posix.relative('/app', path.posix.resolve('/app', p));
  return copy.sources.map((source) => [
    source,
    copy.destination.endsWith('/') ? relative(path.posix.join(copy.destination, path.posix.basename(source))) : relative(copy.destination),
  ]);
}

/**
 * What the `deps` stage holds at /app/<p>: a file or folder it copied from the build context, or
 * node_modules, which its `npm ci` installs from the lockfile exactly as this checkout's was.
 */
function depsSource(p: string): string {
  if (p === 'node_modules') return path.join(ROOT, 'node_modules');
  for (const copy of copies(stage('deps'))) {
    if (copy.from) continue;
    for (const [source, destination] of destinations(copy)) if (destination === p) return path.join(ROOT, source);
  }
  throw new Error(`the deps stage has no /app/${p}`);
}

/** The image's /app, assembled from the stage's COPY instructions. */
function assembleImage(dir: string): void {
  for (const copy of copies(stage(STAGE))) {
    if (copy.from !== 'deps') throw new Error(`the ${STAGE} stage copies from ${copy.from ?? 'the build context'}; this test knows only deps`);
    for (const [source, destination] of destinations(copy)) {
      const from = depsSource(path.posix.relative('/app', source));
      const to = path.join(dir, destination);
      // node_modules is linked, not copied (a gigabyte): the same tree, by the same lockfile.
      if (destination === 'node_modules') symlinkSync(from, to);
      else cpSync(from, to, { recursive: true });
    }
  }
}

/** Every path under dir with its size and modification time, node_modules aside. */
function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((p) => !p.startsWith('node_modules'))
    .sort()
    .map((p) => {
      const s = statSync(path.join(dir, p));
      return `${p} ${s.size} ${s.mtimeMs}`;
    });
}

function migrationJob(): K8sObject {
  const job = render('k8s/overlays/prod').find((o) => o.kind === 'Job' && o.metadata.name.startsWith('upload-platform-migrate'));
  if (!job) throw new Error('the prod overlay renders no migration Job');
  return job;
}

describe('the migration image', () => {
  let db: TestDatabase;
  let app: string;
  let job: K8sObject;
  let container: { image: string; command: string[]; env: { name: string; value: string }[]; securityContext: { readOnlyRootFilesystem?: boolean } };

  beforeAll(async () => {
    db = await createEmptyDatabase(testConfig().TEST_POSTGRES_URL);
    app = mkdtempSync(path.join(tmpdir(), 'migrate-image-'));
    chmodSync(app, 0o755); // readable by the image's user, as an image's /app is
    assembleImage(app);
    job = migrationJob();
    container = job.spec.template.spec.containers[0];
  });

  afterAll(async () => {
    rmSync(app, { recursive: true, force: true });
    await db?.drop();
  });

  /** The Job's command in the image's /app, with the image's ENV, the Job's env and the database. */
  function runJob() {
    const image = stage(STAGE);
    const imageEnv = Object.fromEntries(only(image, 'ENV').map((i) => i.getArgumentsContent()!.split('=') as [string, string]));
    const jobEnv = Object.fromEntries(container.env.map((e) => [e.name, e.value]));
    const [command, ...args] = container.command;
    // As the image's user: root (CI's) would write anywhere. As someone else, /app is made read-only.
    const asNode = process.getuid?.() === 0;
    if (!asNode) spawnSync('chmod', ['-R', 'a-w', app]);
    const argv = asNode ? ['setpriv', `--reuid=${NODE_UID}`, `--regid=${NODE_UID}`, '--clear-groups', command, ...args] : [command, ...args];
    return spawnSync(argv[0], argv.slice(1), {
      cwd: app,
      encoding: 'utf8',
      timeout: 120_000,
      // Nothing of this process's environment but PATH (where the image has node and npx).
      env: { PATH: process.env.PATH, ...imageEnv, ...jobEnv, DATABASE_URL: db.url },
    });
  }

  it('is the stage the Job names, running the command the stage runs by default', () => {
    expect(container.image).toMatch(/(^|\/)upload-platform-migrate:[^:]+$/);
    const cmd = only(stage(STAGE), 'CMD');
    expect(cmd).toHaveLength(1);
    expect(container.command).toEqual(json(cmd[0]));
    expect(only(stage(STAGE), 'USER').map((i) => i.getArgumentsContent())).toEqual(['node']);
    expect(job.spec.template.spec.securityContext.runAsUser).toBe(NODE_UID);
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
  });

  it('holds what prisma migrate deploy reads and no application code', () => {
    expect(readdirSync(app).sort()).toEqual(['node_modules', 'package.json', 'prisma', 'prisma.config.ts']);
    expect(readdirSync(path.join(app, 'prisma/migrations')).sort()).toEqual(readdirSync(path.join(ROOT, 'prisma/migrations')).sort());
  });

  it('applies every migration to an empty database, writing nothing to its own filesystem, and a second run is a no-op', async () => {
    const before = snapshot(app);
    const first = runJob();
    expect({ status: first.status, stderr: first.stderr }).toMatchObject({ status: 0 });
    expect(first.stdout).toMatch(/All migrations have been successfully applied/);

    const migrations = readdirSync(path.join(ROOT, 'prisma/migrations')).filter((m) => !m.endsWith('.toml'));
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const applied = await client.query<{ migration_name: string }>(
        'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY migration_name',
      );
      expect(applied.rows.map((r) => r.migration_name)).toEqual(migrations.sort());
      // The schema is there: the tables the services start on.
      const tables = await client.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`);
      expect(tables.rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(['files', 'file_parts', 'tenants', 'change_events']));
    } finally {
      await client.end();
    }

    const second = runJob();
    expect({ status: second.status, stderr: second.stderr }).toMatchObject({ status: 0 });
    expect(second.stdout).toMatch(/No pending migrations to apply/);
    expect(snapshot(app)).toEqual(before);
  });
});
