-- Codecs and other facts found by processing (ffprobe, sharp).
ALTER TABLE "files" ADD COLUMN "media_info" JSONB;
