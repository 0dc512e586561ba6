-- Media facts found by processing: dimensions, duration, and a compact placeholder (thumbhash).
ALTER TABLE "files" ADD COLUMN "width" INTEGER, ADD COLUMN "height" INTEGER, ADD COLUMN "duration_ms" INTEGER, ADD COLUMN "placeholder" TEXT;
