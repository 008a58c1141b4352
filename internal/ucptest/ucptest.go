// Package ucptest compiles the official UCP JSON Schemas for tests, from the
// specification checked out beside the repository (/work/shared next to
// /work/main; CI clones it the same way), without a network.
package ucptest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Loader serves https://ucp.dev/schemas/... from the local copy in Dir, so
// the schemas' own $ids and relative $refs resolve.
type Loader struct{ Dir string }

// Load implements jsonschema.URLLoader.
func (l Loader) Load(url string) (any, error) {
	const prefix = "https://ucp.dev/schemas/"
	if !strings.HasPrefix(url, prefix) {
		return nil, os.ErrNotExist
	}
	f, err := os.Open(filepath.Join(l.Dir, "schemas", filepath.FromSlash(strings.TrimPrefix(url, prefix))))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return jsonschema.UnmarshalJSON(f)
}

// Dir returns the UCP specification directory, failing t when it is
// missing.
func Dir(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("ucptest: cannot locate its own source file")
	}
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "specs", "ucp")
	if _, err := os.Stat(filepath.Join(dir, "schemas", "ucp.json")); err != nil {
		t.Fatalf("the UCP specification must sit beside the repository at %s: %v", dir, err)
	}
	return dir
}

// Compile compiles each schema URL: https://ucp.dev/schemas/... or
// "openrpc:<fragment>" for a fragment of the shopping MCP binding
// (openrpc:#/components/schemas/catalog_get_product_result).
func Compile(t testing.TB, urls ...string) []*jsonschema.Schema {
	t.Helper()
	dir := Dir(t)
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.UseLoader(jsonschema.SchemeURLLoader{"file": jsonschema.FileLoader{}, "https": Loader{Dir: dir}})
	openrpc := "file://" + filepath.ToSlash(filepath.Join(dir, "services", "shopping", "mcp.openrpc.json"))
	out := make([]*jsonschema.Schema, len(urls))
	for i, u := range urls {
		if frag, ok := strings.CutPrefix(u, "openrpc:"); ok {
			u = openrpc + frag
		}
		s, err := c.Compile(u)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = s
	}
	return out
}

// Enveloped returns out as a UCP response: its JSON object with the ucp
// envelope the MCP edge adds.
func Enveloped(t testing.TB, out any) any {
	t.Helper()
	raw, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	raw = append([]byte(`{"ucp":{"version":"2026-04-08"},`), raw[1:]...)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}
