-- Issue 16: the id of the request whose work appended a change (the request in progress, else the
-- one that initiated the file of the change), so a request is followed into the events it caused.
ALTER TABLE "change_events" ADD COLUMN "request_id" TEXT;
