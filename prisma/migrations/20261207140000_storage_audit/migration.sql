-- When storage was last asked whether it still holds a file (its object, or its multipart upload
-- while it takes parts): the reconciler audit visits the least recently asked first (issue #11).
ALTER TABLE "files" ADD COLUMN "storage_checked_at" TIMESTAMPTZ(3);

-- Only the statuses the audit visits, so the index stays as small as what is audited.
-- (The Prisma schema cannot express a partial index: it lives here only.)
CREATE INDEX "files_storage_audit_idx" ON "files" ("storage_checked_at" NULLS FIRST, "id")
  WHERE "status" IN ('pending', 'uploading', 'uploaded', 'processing', 'ready');
