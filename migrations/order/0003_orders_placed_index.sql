-- The merchant's unfiltered order list pages newest first by (placed_at, id);
-- without this index it scans and sorts every order.
CREATE INDEX orders_placed ON "order".orders (placed_at, id);
