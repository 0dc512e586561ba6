-- The webhook sweep reads only deliveries still owed, oldest first (WebhookRepository.owed). A
-- partial index keeps that read proportional to what is owed, however long the delivery log grows.
-- (The Prisma schema cannot express a partial index: it lives here only.)
CREATE INDEX "webhook_deliveries_owed_idx" ON "webhook_deliveries" ("created_at", "id") WHERE "status" IN ('pending', 'failed');
