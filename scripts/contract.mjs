// The contract documents, generated from the built services (run `npm run build` first) and
// checked: the OpenAPI 3.1 documents of upload-api and sync-notifier (Redocly's recommended rules,
// 0 errors), the AsyncAPI document of the WebSocket /v1/sync (@asyncapi/parser, 0 errors), and
// the TypeScript types openapi-typescript makes of the OpenAPI documents, which the e2e tier's
// typed calls are checked against. Written to dist/contract/ (the build's copy) and to
// test/e2e/contract/generated/ with the types (the e2e tier's copy, which a rebuild of dist/
// during the tier, as the stack-script test does, leaves alone). Both ignored by git.
//
// Usage: node scripts/contract.mjs [--no-lint]
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));
// The build to read (scripts/build.mjs, BUILD_OUT), and where the documents go.
const built = path.resolve(root, process.env.BUILD_OUT ?? 'dist');
const out = path.join(built, 'contract');
const typesDir = path.join(root, 'test', 'e2e', 'contract', 'generated');
const lint = !process.argv.includes('--no-lint');

// The services' configuration is required to build their modules; the example's values do (nothing connects).
require('dotenv').config({ path: path.join(root, '.env.example'), quiet: true });
require('reflect-metadata');
const { NestFactory } = require('@nestjs/core');
const { FastifyAdapter } = require('@nestjs/platform-fastify');
const { loadConfig } = require(`${built}/libs/config/src`);
const { openApiDocument } = require(`${built}/libs/http/src`);

const services = [
  {
    name: 'upload-api',
    module: () => require(`${built}/apps/upload-api/src/app.module`).UploadApiModule,
    env: () => require(`${built}/apps/upload-api/src/config`).uploadApiEnv,
    description: () => require(`${built}/apps/upload-api/src/api-description`).uploadApiDescription,
  },
  {
    name: 'sync-notifier',
    module: () => require(`${built}/apps/sync-notifier/src/app.module`).SyncNotifierModule,
    env: () => require(`${built}/apps/sync-notifier/src/config`).notifierEnv,
    description: () => require(`${built}/apps/sync-notifier/src/api-description`).syncNotifierDescription,
  },
];

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`contract: ${command} ${args.join(' ')} failed (exit ${result.status})`);
    process.exit(1);
  }
}

await mkdir(out, { recursive: true });
await mkdir(typesDir, { recursive: true });
const files = [];
for (const service of services) {
  // Preview mode builds the module graph (routes, decorators) without creating providers: no connections.
  const app = await NestFactory.create(service.module().register(loadConfig(service.env())), new FastifyAdapter(), {
    preview: true,
    logger: false,
    abortOnError: false,
  });
  const document = openApiDocument(app, service.description());
  const file = path.join(out, `${service.name}.openapi.json`);
  await writeFile(file, `${JSON.stringify(document, null, 2)}\n`);
  await copyFile(file, path.join(typesDir, path.basename(file)));
  files.push({ service: service.name, file });
  console.log(`contract: ${path.relative(root, file)} (${Object.keys(document.paths).length} paths)`);
}

if (lint) run('npx', ['--no-install', 'redocly', 'lint', '--config', 'redocly.yaml', ...files.map((f) => path.relative(root, f.file))]);
await writeAsyncApi();

for (const { service, file } of files) run('npx', ['--no-install', 'openapi-typescript', file, '-o', path.join(typesDir, `${service}.ts`), '--silent']);
// The typed calls of the e2e tier compile against what the documents promise.
run('npx', ['--no-install', 'tsc', '-p', 'test/e2e/contract/tsconfig.json', '--noEmit']);
console.log('contract: documents valid, typed calls compile');
process.exit(0);

/** The WebSocket protocol of /v1/sync as AsyncAPI, from the same zod contract; any error-level diagnostic fails. */
async function writeAsyncApi() {
  const { asyncApiDocument } = require(`${built}/libs/contracts/src/docs/asyncapi.js`);
  const { Parser } = require('@asyncapi/parser');
  const text = `${JSON.stringify(asyncApiDocument({ serverUrl: 'ws://127.0.0.1:3001' }), null, 2)}\n`;
  const file = path.join(out, 'sync-notifier.asyncapi.json');
  await writeFile(file, text);
  // Spectral's severities: 0 error, 1 warning, 2 information, 3 hint.
  const { diagnostics } = await new Parser().parse(text);
  const severity = ['error', 'warning', 'info', 'hint'];
  for (const d of diagnostics)
    console.log(`contract: asyncapi ${severity[d.severity] ?? d.severity} ${d.code} at ${d.path.join('.') || '(document)'}: ${d.message}`);
  if (diagnostics.some((d) => d.severity === 0)) {
    console.error(`contract: ${path.relative(root, file)} is not a valid AsyncAPI document`);
    process.exit(1);
  }
  console.log(`contract: ${path.relative(root, file)} (valid AsyncAPI)`);
}
