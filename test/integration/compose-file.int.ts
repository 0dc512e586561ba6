import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Document, parse, parseDocument } from 'yaml';

/**
 * docker-compose.yml against the Compose specification: dclint's schema check (the compose-spec
 * JSON schema) and the rules .dclintrc.yaml turns on, exactly as CI runs it; and the file's own
 * invariants, which no schema knows: every long-running service has a healthcheck whose durations
 * parse, and whatever depends on one waits until it is healthy. Broken copies show each check notices.
 */
const ROOT = path.resolve(__dirname, '../..');
const COMPOSE_FILE = path.join(ROOT, 'docker-compose.yml');
const DCLINT = path.join(path.dirname(require.resolve('dclint/package.json')), 'bin/dclint.cjs');

const DURATIONS = ['interval', 'timeout', 'start_period', 'start_interval'] as const;

type Message = { rule: string; type: 'error' | 'warning'; message: string };
type Service = {
  image?: string;
  healthcheck?: { test?: unknown; disable?: boolean } & Partial<Record<(typeof DURATIONS)[number], string | number>>;
  depends_on?: string[] | Record<string, { condition: string }>;
};

/** dclint's findings on a file, with the repository's configuration (what CI runs). */
function dclint(file: string): { status: number | null; messages: Message[] } {
  const out = spawnSync(process.execPath, [DCLINT, file, '--config', path.join(ROOT, '.dclintrc.yaml'), '--formatter', 'json'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (out.error) throw out.error;
  if (!out.stdout.trim()) throw new Error(`dclint printed no report (exit ${out.status}): ${out.stderr}`);
  const [report] = JSON.parse(out.stdout) as { messages: Message[] }[];
  return { status: out.status, messages: report.messages.map(({ rule, type, message }) => ({ rule, type, message })) };
}

/** Compose durations: a sequence of number+unit, e.g. 1m30s (compose-spec, "Specifying durations"). */
const DURATION = /^(\d+(\.\d+)?(us|ms|s|m|h))+$/;

/**
 * The file's invariants. A service another waits on to complete (service_completed_successfully)
 * is a one-shot job; every other one runs for good and must say when it is ready, and whatever
 * depends on it must wait for that, not merely for the container to start.
 */
function invariantViolations(source: string): string[] {
  const services = (parse(source, { merge: true }) as { services: Record<string, Service> }).services;
  const found: string[] = [];
  const dependencies = Object.entries(services).flatMap(([name, s]) =>
    Array.isArray(s.depends_on)
      ? s.depends_on.map((on) => ({ name, on, condition: 'service_started' }))
      : Object.entries(s.depends_on ?? {}).map(([on, d]) => ({ name, on, condition: d.condition })),
  );
  const oneShot = new Set(dependencies.filter((d) => d.condition === 'service_completed_successfully').map((d) => d.on));
  for (const [name, service] of Object.entries(services)) {
    if (oneShot.has(name)) continue;
    const check = service.healthcheck;
    if (!check?.test || check.disable) found.push(`${name}: a long-running service without a healthcheck`);
    for (const key of DURATIONS) {
      const value = check?.[key];
      if (value !== undefined && !DURATION.test(String(value))) found.push(`${name}: healthcheck ${key} ${value} is not a duration`);
    }
  }
  for (const { name, on, condition } of dependencies)
    if (!oneShot.has(on) && condition !== 'service_healthy') found.push(`${name}: starts when ${on} has started (${condition}), not when it is healthy`);
  return found;
}

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A copy of docker-compose.yml (comments and anchors kept) with one change, written to a file. */
function brokenCopy(change: (doc: Document) => void): string {
  const doc = parseDocument(fs.readFileSync(COMPOSE_FILE, 'utf8'));
  change(doc);
  const file = path.join(dir, 'docker-compose.yml');
  fs.writeFileSync(file, String(doc));
  return file;
}

describe('docker-compose.yml', () => {
  it('passes the Compose specification and the dclint rules CI runs, without a warning', () => {
    expect(dclint(COMPOSE_FILE)).toEqual({ status: 0, messages: [] });
  });

  it('gives every long-running service a healthcheck, and makes what depends on moto and the others wait until healthy', () => {
    const source = fs.readFileSync(COMPOSE_FILE, 'utf8');
    expect(invariantViolations(source)).toEqual([]);
    // Not vacuous: moto is depended on, and waited for.
    const services = (parse(source, { merge: true }) as { services: Record<string, Service> }).services;
    const onMoto = Object.entries(services).filter(([, s]) => s.depends_on && 'moto' in s.depends_on);
    expect(onMoto.map(([name]) => name)).toEqual(expect.arrayContaining(['bootstrap', 'cdn']));
  });
});

describe('the checks catch a broken compose file', () => {
  const schemaError = (instancePath: string, message: string) => ({
    rule: 'invalid-schema',
    type: 'error',
    message: expect.stringMatching(new RegExp(`instancePath="${instancePath}".*${message}`)),
  });

  it('ports of the wrong type fail the schema', () => {
    const file = brokenCopy((doc) => doc.setIn(['services', 'clamav', 'ports'], 'abc'));
    expect(dclint(file)).toEqual({ status: 1, messages: [schemaError('/services/clamav/ports', 'must be array')] });
  });

  it('an unknown service key (a typo) fails the schema', () => {
    const file = brokenCopy((doc) => {
      doc.setIn(['services', 'redis', 'helthcheck'], doc.getIn(['services', 'redis', 'healthcheck']));
      doc.deleteIn(['services', 'redis', 'healthcheck']);
    });
    expect(dclint(file)).toEqual({ status: 1, messages: [schemaError('/services/redis', 'must NOT have additional properties')] });
  });

  it('an unknown top-level key fails the schema', () => {
    const file = brokenCopy((doc) => doc.set('service', { web: { image: 'nginx:1.27' } }));
    expect(dclint(file)).toEqual({ status: 1, messages: [schemaError('', 'must NOT have additional properties')] });
  });

  it('a healthcheck interval as a number fails the schema; one that is no duration fails the invariants', () => {
    const number = brokenCopy((doc) => doc.setIn(['services', 'postgres', 'healthcheck', 'interval'], 5));
    expect(dclint(number)).toEqual({ status: 1, messages: [schemaError('/services/postgres/healthcheck/interval', 'must be string')] });
    // The schema takes any string here; Compose would refuse it at `up`.
    const words = brokenCopy((doc) => doc.setIn(['services', 'postgres', 'healthcheck', 'interval'], 'five seconds'));
    expect(dclint(words)).toEqual({ status: 0, messages: [] });
    expect(invariantViolations(fs.readFileSync(words, 'utf8'))).toEqual(['postgres: healthcheck interval five seconds is not a duration']);
  });

  it('a dependency condition Compose does not know fails the schema', () => {
    const file = brokenCopy((doc) => doc.setIn(['services', 'cdn', 'depends_on', 'moto', 'condition'], 'service_ready'));
    expect(dclint(file)).toEqual({ status: 1, messages: [schemaError('/services/cdn/depends_on', '')] });
  });

  it('an untagged image and a host port published twice fail the rules', () => {
    const file = brokenCopy((doc) => {
      doc.setIn(['services', 'redis', 'image'], 'redis');
      doc.setIn(['services', 'clamav', 'ports'], doc.createNode(['5432:3310']));
    });
    expect(dclint(file)).toEqual({
      status: 1,
      messages: expect.arrayContaining([
        expect.objectContaining({ rule: 'service-image-require-explicit-tag', type: 'error' }),
        expect.objectContaining({ rule: 'no-duplicate-exported-ports', type: 'error' }),
      ]),
    });
  });

  it('a service without a healthcheck, or a dependent that does not wait for moto to be healthy, fails the invariants', () => {
    const file = brokenCopy((doc) => {
      doc.deleteIn(['services', 'cdn', 'healthcheck']);
      doc.setIn(['services', 'bootstrap', 'depends_on', 'moto', 'condition'], 'service_started');
    });
    expect(dclint(file)).toEqual({ status: 0, messages: [] });
    expect(invariantViolations(fs.readFileSync(file, 'utf8'))).toEqual([
      'cdn: a long-running service without a healthcheck',
      'bootstrap: starts when moto has started (service_started), not when it is healthy',
    ]);
  });
});
