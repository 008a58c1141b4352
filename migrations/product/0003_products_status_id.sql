-- Walking active products in ID order (the search index build, paged by
-- keyset) used products_status_created and sorted every page: quadratic
-- over a large catalog. This index serves "status = ? AND id > ? ORDER BY
-- id" directly.
CREATE INDEX products_status_id ON product.products (status, id);
