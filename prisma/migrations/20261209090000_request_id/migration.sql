-- Issue 16: the id of the request that initiated an upload, so the tracker and the media workers
-- log the work the file causes under that id (a request followed from the API into the jobs).
ALTER TABLE "files" ADD COLUMN "request_id" TEXT;
