-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "file_status" AS ENUM ('pending', 'uploading', 'completing', 'uploaded', 'processing', 'ready', 'rejected', 'failed', 'aborted', 'expired', 'deleted');

-- CreateEnum
CREATE TYPE "upload_mode" AS ENUM ('single', 'multipart');

-- CreateEnum
CREATE TYPE "part_state" AS ENUM ('reported', 'stored');

-- CreateEnum
CREATE TYPE "dedup_scope" AS ENUM ('owner', 'tenant');

-- CreateEnum
CREATE TYPE "delivery_status" AS ENUM ('pending', 'succeeded', 'failed', 'dead');

-- CreateTable
CREATE TABLE "tenants" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "quota_bytes" BIGINT NOT NULL,
    "max_file_bytes" BIGINT NOT NULL,
    "allowed_types" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "dedup_scope" "dedup_scope" NOT NULL DEFAULT 'owner',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "tenants_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_keys" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "key_hash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "name" TEXT NOT NULL DEFAULT 'default',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "files" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "owner_id" TEXT NOT NULL,
    "filename" TEXT NOT NULL,
    "content_type" TEXT NOT NULL,
    "detected_type" TEXT,
    "size" BIGINT NOT NULL,
    "declared_sha256" TEXT,
    "sha256" TEXT,
    "storage_key" TEXT NOT NULL,
    "mode" "upload_mode" NOT NULL,
    "s3_upload_id" TEXT,
    "part_size" BIGINT,
    "part_count" INTEGER,
    "checksum_algorithm" TEXT,
    "status" "file_status" NOT NULL DEFAULT 'pending',
    "status_reason" TEXT,
    "metadata" JSONB,
    "etag" TEXT,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "status_changed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "uploaded_at" TIMESTAMPTZ(3),
    "ready_at" TIMESTAMPTZ(3),
    "deleted_at" TIMESTAMPTZ(3),

    CONSTRAINT "files_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "file_parts" (
    "file_id" UUID NOT NULL,
    "part_number" INTEGER NOT NULL,
    "size" BIGINT NOT NULL,
    "etag" TEXT,
    "checksum_sha256" TEXT,
    "state" "part_state" NOT NULL DEFAULT 'reported',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "file_parts_pkey" PRIMARY KEY ("file_id","part_number")
);

-- CreateTable
CREATE TABLE "variants" (
    "id" UUID NOT NULL,
    "file_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "storage_key" TEXT NOT NULL,
    "content_type" TEXT NOT NULL,
    "size" BIGINT NOT NULL,
    "width" INTEGER,
    "height" INTEGER,
    "duration_ms" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "variants_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "owner_sequences" (
    "tenant_id" UUID NOT NULL,
    "owner_id" TEXT NOT NULL,
    "last_seq" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "owner_sequences_pkey" PRIMARY KEY ("tenant_id","owner_id")
);

-- CreateTable
CREATE TABLE "change_events" (
    "id" BIGSERIAL NOT NULL,
    "tenant_id" UUID NOT NULL,
    "owner_id" TEXT NOT NULL,
    "seq" BIGINT NOT NULL,
    "type" TEXT NOT NULL,
    "file_id" UUID,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "change_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "processed_storage_events" (
    "event_key" TEXT NOT NULL,
    "file_id" UUID,
    "event_name" TEXT NOT NULL,
    "processed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "processed_storage_events_pkey" PRIMARY KEY ("event_key")
);

-- CreateTable
CREATE TABLE "quota_usage" (
    "tenant_id" UUID NOT NULL,
    "used_bytes" BIGINT NOT NULL DEFAULT 0,
    "reserved_bytes" BIGINT NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "quota_usage_pkey" PRIMARY KEY ("tenant_id")
);

-- CreateTable
CREATE TABLE "webhooks" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "url" TEXT NOT NULL,
    "events" TEXT[],
    "secret" TEXT NOT NULL,
    "previous_secret" TEXT,
    "rotated_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "disabled_at" TIMESTAMPTZ(3),

    CONSTRAINT "webhooks_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_deliveries" (
    "id" UUID NOT NULL,
    "webhook_id" UUID NOT NULL,
    "change_event_id" BIGINT,
    "event_type" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "status" "delivery_status" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_status_code" INTEGER,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_attempt_at" TIMESTAMPTZ(3),
    "delivered_at" TIMESTAMPTZ(3),

    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_key_hash_key" ON "api_keys"("key_hash");

-- CreateIndex
CREATE INDEX "api_keys_tenant_id_idx" ON "api_keys"("tenant_id");

-- CreateIndex
CREATE UNIQUE INDEX "files_storage_key_key" ON "files"("storage_key");

-- CreateIndex
CREATE UNIQUE INDEX "files_s3_upload_id_key" ON "files"("s3_upload_id");

-- CreateIndex
CREATE INDEX "files_tenant_id_owner_id_created_at_id_idx" ON "files"("tenant_id", "owner_id", "created_at" DESC, "id");

-- CreateIndex
CREATE INDEX "files_tenant_id_sha256_idx" ON "files"("tenant_id", "sha256");

-- CreateIndex
CREATE INDEX "files_status_expires_at_idx" ON "files"("status", "expires_at");

-- CreateIndex
CREATE INDEX "files_status_status_changed_at_idx" ON "files"("status", "status_changed_at");

-- CreateIndex
CREATE UNIQUE INDEX "variants_storage_key_key" ON "variants"("storage_key");

-- CreateIndex
CREATE UNIQUE INDEX "variants_file_id_name_key" ON "variants"("file_id", "name");

-- CreateIndex
CREATE INDEX "change_events_created_at_idx" ON "change_events"("created_at");

-- CreateIndex
CREATE UNIQUE INDEX "change_events_tenant_id_owner_id_seq_key" ON "change_events"("tenant_id", "owner_id", "seq");

-- CreateIndex
CREATE INDEX "processed_storage_events_processed_at_idx" ON "processed_storage_events"("processed_at");

-- CreateIndex
CREATE INDEX "webhooks_tenant_id_idx" ON "webhooks"("tenant_id");

-- CreateIndex
CREATE INDEX "webhook_deliveries_webhook_id_created_at_idx" ON "webhook_deliveries"("webhook_id", "created_at" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "webhook_deliveries_webhook_id_change_event_id_key" ON "webhook_deliveries"("webhook_id", "change_event_id");

-- AddForeignKey
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "files" ADD CONSTRAINT "files_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "file_parts" ADD CONSTRAINT "file_parts_file_id_fkey" FOREIGN KEY ("file_id") REFERENCES "files"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "variants" ADD CONSTRAINT "variants_file_id_fkey" FOREIGN KEY ("file_id") REFERENCES "files"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "quota_usage" ADD CONSTRAINT "quota_usage_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhooks" ADD CONSTRAINT "webhooks_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_webhook_id_fkey" FOREIGN KEY ("webhook_id") REFERENCES "webhooks"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_change_event_id_fkey" FOREIGN KEY ("change_event_id") REFERENCES "change_events"("id") ON DELETE SET NULL ON UPDATE CASCADE;


-- Invariants the Prisma schema language cannot express. A double release of quota or a negative
-- size is a bug, and the database refuses it rather than letting the books drift.
ALTER TABLE "tenants" ADD CONSTRAINT "tenants_quota_nonneg" CHECK ("quota_bytes" >= 0 AND "max_file_bytes" >= 0);
ALTER TABLE "files" ADD CONSTRAINT "files_size_nonneg" CHECK ("size" >= 0);
ALTER TABLE "file_parts" ADD CONSTRAINT "file_parts_number_range" CHECK ("part_number" BETWEEN 1 AND 10000 AND "size" >= 0);
ALTER TABLE "quota_usage" ADD CONSTRAINT "quota_usage_nonneg" CHECK ("used_bytes" >= 0 AND "reserved_bytes" >= 0);
ALTER TABLE "owner_sequences" ADD CONSTRAINT "owner_sequences_nonneg" CHECK ("last_seq" >= 0);
