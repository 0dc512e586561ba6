// Prisma CLI configuration. The CLI runs migrations through the pg driver adapter and the
// bundled WASM schema engine, because these machines cannot download Prisma's native engine
// (docs/adr/0002-prisma-6-19-offline.md). This file is tooling, read only by the Prisma CLI.
import 'dotenv/config';
import path from 'node:path';
import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';

// The schema's `env("DATABASE_URL")` must resolve even for `prisma generate` on a fresh clone
// (no .env yet): without it the CLI cannot read `engineType` and tries to download a Rust engine.
const databaseUrl = (process.env.DATABASE_URL ??= 'postgresql://postgres@127.0.0.1:5432/uploads');

function connectionFields(url: string) {
  const u = new URL(url);
  // Discrete fields rather than a connectionString: with a connection string the adapter's
  // shadow database for `migrate dev` would be the main database itself.
  return {
    host: u.hostname,
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.slice(1)),
  };
}

export default defineConfig({
  schema: path.join('prisma', 'schema.prisma'),
  migrations: { path: path.join('prisma', 'migrations') },
  experimental: { adapter: true },
  engine: 'js',
  adapter: () => Promise.resolve(new PrismaPg(connectionFields(databaseUrl))),
});
