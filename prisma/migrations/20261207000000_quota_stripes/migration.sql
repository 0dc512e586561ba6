-- The quota of a tenant held in stripes (docs/adr/0017-quota-stripes.md). The row each tenant had
-- becomes its stripe 0, allotted the whole quota, and files made before are charged to stripe 0.
ALTER TABLE "quota_usage" ADD COLUMN "stripe" SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE "quota_usage" ADD COLUMN "allotment_bytes" BIGINT NOT NULL DEFAULT 0;
ALTER TABLE "quota_usage" DROP CONSTRAINT "quota_usage_pkey";
ALTER TABLE "quota_usage" ADD CONSTRAINT "quota_usage_pkey" PRIMARY KEY ("tenant_id", "stripe");
UPDATE "quota_usage" q SET "allotment_bytes" = t."quota_bytes" FROM "tenants" t WHERE t."id" = q."tenant_id";

ALTER TABLE "files" ADD COLUMN "quota_stripe" SMALLINT NOT NULL DEFAULT 0;

-- A stripe admits only within its allotment (the admission checks it, this makes it a rule).
ALTER TABLE "quota_usage" ADD CONSTRAINT "quota_usage_within_allotment" CHECK ("used_bytes" + "reserved_bytes" <= "allotment_bytes");

-- What a tenant stores and has reserved, whatever its stripes: for operators and tests
CREATE VIEW "quota_totals" AS
SELECT q."tenant_id", SUM(q."used_bytes")::BIGINT AS "used_bytes", SUM(q."reserved_bytes")::BIGINT AS "reserved_bytes", t."quota_bytes"
FROM "quota_usage" q JOIN "tenants" t ON t."id" = q."tenant_id"
GROUP BY q."tenant_id", t."quota_bytes";
