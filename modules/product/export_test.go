package product

// SearchReloads counts products the search index re-read from SQL because
// of an event, so tests can tell a reload from an in-memory change.
func (m *Module) SearchReloads() int64 { return m.search.reloads.Load() }
