#!/usr/bin/env bash
# The boundaries the ESLint config draws must bite: each probe below is code an app must not
# contain, linted as if it were a file of upload-api. CI fails if any of them passes.
set -uo pipefail
cd "$(dirname "$0")/.."
target=apps/upload-api/src/main.ts
failed=0
lint() { printf '%s\n' "$1" | npx --no-install eslint --stdin --stdin-filename "$target" 2>&1; }
probe() { # description, code: refused by one of the boundary rules, not by anything else
  local out
  out="$(lint "$2")"
  if grep -qE 'no-restricted-(syntax|imports)' <<<"$out"; then echo "refused: $1"; else echo "lint rule does not bite: $1"; failed=1; fi
}
# The probes are linted as app code: a clean one must pass, or every refusal below proves nothing.
lint "export const ok = 1;" >/dev/null || { echo "a clean probe fails to lint"; exit 1; }
probe 'a status list in an app' "export const ACTIVE = ['pending', 'uploading'];"
probe 'status alternatives in an app' "export const active = (s: string) => s === 'pending' || s === 'uploading';"
probe 'a hand-built transition' "export const t = { to: 'ready', from: ['processing'] as string[] };"
probe 'a Prisma type outside libs/database' "import type { Prisma } from '@prisma/client';
export type X = Prisma.FileUpdateInput;"
probe 'the generated Prisma client outside libs/database' "import type { File } from '../../../libs/database/src/generated/prisma/client';
export type X = File;"
probe 'BullMQ in an app' "import { UnrecoverableError } from 'bullmq';
export const e = new UnrecoverableError('x');"
probe 'sharp in an app' "import sharp from 'sharp';
export const s = sharp;"
probe 'the transition repository in an app' "import { FileTransitionRepository } from '@app/database';
export const r = FileTransitionRepository;"
exit $failed
