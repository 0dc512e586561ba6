-- File lists page newest first by the row comparison (created_at, id) < (cursor): an index in
-- exactly that order answers any page with a range scan (the old one had id ascending, which
-- forced a sort of every matching row)
DROP INDEX "files_tenant_id_owner_id_created_at_id_idx";
CREATE INDEX "files_tenant_id_owner_id_created_at_id_idx" ON "files"("tenant_id", "owner_id", "created_at" DESC, "id" DESC);
