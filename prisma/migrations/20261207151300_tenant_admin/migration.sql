-- Tenant administration (issue #13)

-- A tenant being deleted: set at once by the DELETE, so its API keys and user tokens stop working
-- while its files are removed, then the row itself goes (docs in the tenant admin routes)
ALTER TABLE "tenants" ADD COLUMN "deleted_at" TIMESTAMPTZ(3);

-- Key rotation: an older key keeps working until this time (the grace period), then is refused.
-- Checked on every use, cached lookups included (a grace shorter than the key cache ends within it)
ALTER TABLE "api_keys" ADD COLUMN "expires_at" TIMESTAMPTZ(3);
