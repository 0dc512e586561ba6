-- SVG files get raster variants only for tenants that opt in (issue #11). Off for every tenant
-- until an operator turns it on.
ALTER TABLE "tenants" ADD COLUMN "allow_svg_rendering" BOOLEAN NOT NULL DEFAULT false;
