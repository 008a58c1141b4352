// Package migrations embeds the SQL migrations of the MDK runtime (mdk/) and
// of every module (one folder per module schema: product/, cart/, order/).
// File names follow sqldb.LoadFS: NNNN_name.sql, or NNNN_name.sqlite.sql and
// NNNN_name.postgres.sql where the engines differ.
package migrations

import "embed"

// FS holds every migration folder.
//
//go:embed */*.sql
var FS embed.FS
