-- Instant uploads share a stored object (and its variants) between files of one owner or tenant.
-- Keys stay server-made from ids, and are now counted by reference instead of being unique.
DROP INDEX "files_storage_key_key";
CREATE INDEX "files_storage_key_idx" ON "files"("storage_key");
DROP INDEX "variants_storage_key_key";
CREATE INDEX "variants_storage_key_idx" ON "variants"("storage_key");
