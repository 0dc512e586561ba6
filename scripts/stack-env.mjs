// Writes the file a shell sources to use a running stack (README, "Using it"):
//   node scripts/stack-env.mjs <file>     with API_URL, SYNC_URL and ADMIN_TOKEN in the environment
// It holds those three, UPLOAD_PLATFORM (this checkout) and API_KEY, the key of a `dev` tenant made through the admin API the first
// time. Idempotent: while the file's key still works against API_URL it is kept, so running it
// again makes no second tenant; a key the database no longer knows (a new database) is replaced.
// `npm run up` (scripts/stack.sh) and the README's test (test/e2e/readme.e2e.ts) both write it
// with this script, so the walk-through is tested against the file a newcomer gets.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DEV_TENANT = 'dev';
const DEV_OWNER = 'dev';

const [file] = process.argv.slice(2);
const { API_URL, SYNC_URL, ADMIN_TOKEN } = process.env;
if (!file || !API_URL || !SYNC_URL || !ADMIN_TOKEN) {
  console.error('usage: API_URL=... SYNC_URL=... ADMIN_TOKEN=... node scripts/stack-env.mjs <file>');
  process.exit(2);
}

const kept = await previousKey(file);
const apiKey = kept && (await keyWorks(kept)) ? kept : await createDevTenant();
// The checkout itself, for the README's SDK and CLI blocks (which build from it).
const UPLOAD_PLATFORM = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
await write(file, { API_URL, SYNC_URL, ADMIN_TOKEN, API_KEY: apiKey, UPLOAD_PLATFORM });
console.error(`[stack] wrote ${file} (${apiKey === kept ? 'the dev tenant and its key as before' : 'the key of a new dev tenant'})`);

async function previousKey(at) {
  const text = await readFile(at, 'utf8').catch(() => '');
  const line = /^export API_KEY='([^']*)'$/m.exec(text);
  return line?.[1];
}

/** A tenant API key answers 200 on the usage of one of its owners; an unknown key 401. */
async function keyWorks(key) {
  const res = await fetch(`${API_URL}/v1/usage`, { headers: { authorization: `Bearer ${key}`, 'x-owner-id': DEV_OWNER } });
  await res.body?.cancel();
  if (res.status === 200) return true;
  if (res.status === 401) return false;
  throw new Error(`GET /v1/usage answered ${res.status}`);
}

async function createDevTenant() {
  const res = await fetch(`${API_URL}/v1/admin/tenants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: DEV_TENANT }),
  });
  if (res.status !== 201) throw new Error(`creating the dev tenant: POST /v1/admin/tenants answered ${res.status}: ${await res.text()}`);
  return (await res.json()).apiKey;
}

/** `export NAME='value'` lines: POSIX shells source them, and the values need no further quoting. */
async function write(at, vars) {
  const quote = (v) => `'${String(v).replaceAll("'", `'\\''`)}'`;
  const lines = Object.entries(vars).map(([name, value]) => `export ${name}=${quote(value)}`);
  const text = [
    '# The running stack, for a shell: . .stack/env (written by npm run up, scripts/stack-env.mjs).',
    '# API_KEY is the key of the dev tenant npm run up created through the admin API.',
    ...lines,
    '',
  ].join('\n');
  await mkdir(path.dirname(at), { recursive: true });
  // It holds credentials: readable by its owner only; written whole, never half.
  const temp = `${at}.${process.pid}.tmp`;
  await writeFile(temp, text, { mode: 0o600 });
  await rename(temp, at);
}
