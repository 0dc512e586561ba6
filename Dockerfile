# One multi-stage image for all four services (the command picks the service).
# Targets: `runtime` (upload-api, chunk-tracker, sync-notifier), `media` (adds ffmpeg),
# `migrate` (the Kubernetes migration Job), `tools` (migrations + storage bootstrap, for docker-compose).

# The pinned toolchain: must equal .nvmrc and package.json's packageManager (scripts/check-toolchain.sh).
ARG NODE_VERSION=24.22.3
ARG NPM_VERSION=11.19.1

FROM node:${NODE_VERSION}-bookworm-slim AS deps
ARG NPM_VERSION
WORKDIR /app
COPY package.json package-lock.json prisma.config.ts ./
COPY patches ./patches
COPY prisma ./prisma
# postinstall applies the adapter patch and generates the Prisma client (no engine download).
# npm ci installs exactly the lockfile, which holds every platform's binaries (docs/adr/0003-node-24.md).
RUN npm install -g "npm@${NPM_VERSION}" && npm ci --no-audit --no-fund

FROM deps AS build
COPY tsconfig.json nest-cli.json ./
COPY scripts ./scripts
COPY apps ./apps
COPY libs ./libs
RUN node scripts/build.mjs

FROM build AS tools
ENV NODE_ENV=production
CMD ["sh", "-c", "npx prisma migrate deploy && node dist/libs/storage/src/cli/bootstrap-storage.js"]

# The migration Job's image (k8s/base/migrate-job.yaml): the Prisma CLI and its driver adapter
# (node_modules), prisma.config.ts, the schema and the migrations; no application code. It runs as
# `node` (uid 1000) on a read-only root filesystem, so nothing here is written at run time.
# test/integration/migrate-image.int.ts assembles exactly these COPYs and runs the Job's command.
FROM node:${NODE_VERSION}-bookworm-slim AS migrate
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/package.json /app/prisma.config.ts ./
COPY --from=deps /app/prisma ./prisma
COPY --from=deps /app/node_modules ./node_modules
USER node
CMD ["npx", "--no-install", "prisma", "migrate", "deploy"]

FROM build AS pruned
RUN npm prune --omit=dev --ignore-scripts

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
RUN apt-get update && apt-get install -y --no-install-recommends tini ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0
COPY --from=pruned /app/package.json ./
COPY --from=pruned /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
# tini forwards SIGTERM so the service drains and exits 0 (docs/architecture.md, Shutdown).
# Same flags as scripts/lib.sh NODE_SERVICE_FLAGS: a young generation sized for request churn.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--enable-source-maps", "--max-semi-space-size=16"]
CMD ["dist/apps/upload-api/src/main.js"]

FROM runtime AS media
USER root
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg && rm -rf /var/lib/apt/lists/*
USER node
CMD ["dist/apps/media-processor/src/main.js"]
