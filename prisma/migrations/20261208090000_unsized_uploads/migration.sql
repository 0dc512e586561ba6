-- Whether the size of a file is known. Companion-style clients (Uppy) start an upload without
-- saying how large it is: such an upload holds no quota and its size stays 0 until storage shows
-- the bytes, when the size is set and charged to the quota in one step (issue #14).
ALTER TABLE "files" ADD COLUMN "size_declared" BOOLEAN NOT NULL DEFAULT true;
