package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestImport(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("catalog.jsonl", `{"title":"Oak Table","sku":"OAK-1","price":"199.00 USD","stock":3}`+"\n"+
		`{"title":"","sku":"NO-TITLE","price":100}`+"\n"+
		`{"title":"Wool Scarf","sku":"SCARF-1","price":2500}`+"\n")
	write("catalog.csv", "handle,title,option1_name,option1_value,sku,price\n"+
		"tee,Tee,Size,S,TEE-S,1999\n"+
		"tee,,,M,TEE-M,1999\n")
	write("notes.txt", "these are not products\n")
	summary := regexp.MustCompile(`^imported catalog\.jsonl \(jsonl\) in [0-9.]+m?s: (.*)\n$`)

	t.Run("OK", func(t *testing.T) {
		stdout, stderr, code := run(t, dir, nil, "import", "catalog.jsonl")
		m := summary.FindStringSubmatch(stdout)
		if code != 0 || m == nil || m[1] != "2 created, 0 updated, 0 unchanged, 1 failed" {
			t.Fatalf("exit %d stdout %q stderr %q", code, stdout, stderr)
		}
		if !strings.Contains(stderr, "catalog.jsonl:2: title: is required: give the product a title\n") ||
			!strings.Contains(stderr, "hyperrr: warning: 1 rows failed") {
			t.Fatalf("stderr %q", stderr)
		}
	})
	t.Run("OKAgainChangesNothing", func(t *testing.T) {
		stdout, stderr, code := run(t, dir, nil, "import", "--format", "jsonl", "catalog.jsonl")
		if m := summary.FindStringSubmatch(stdout); code != 0 || m == nil || m[1] != "0 created, 0 updated, 2 unchanged, 1 failed" {
			t.Fatalf("exit %d stdout %q stderr %q", code, stdout, stderr)
		}
	})
	t.Run("OKCSV", func(t *testing.T) {
		stdout, stderr, code := run(t, dir, nil, "import", "catalog.csv")
		if code != 0 || !strings.Contains(stdout, "imported catalog.csv (csv) in ") || !strings.HasSuffix(stdout, ": 1 created, 0 updated, 0 unchanged, 0 failed\n") || strings.Contains(stderr, "warning") {
			t.Fatalf("exit %d stdout %q stderr %q", code, stdout, stderr)
		}
	})
	t.Run("ErrStrict", func(t *testing.T) {
		_, stderr, code := run(t, dir, nil, "import", "--strict", "catalog.jsonl")
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != 1 || lines[len(lines)-1] != "hyperrr: 1 rows of catalog.jsonl failed (listed above; --strict); the others were imported" {
			t.Fatalf("exit %d stderr %q", code, stderr)
		}
	})
	t.Run("ErrUnreadable", func(t *testing.T) {
		for args, want := range map[string]string{
			"import missing.jsonl":              "hyperrr: open catalog: open missing.jsonl: no such file or directory",
			"import --format xml catalog.jsonl": `hyperrr: --format="xml": unknown format "xml": use auto, jsonl, csv or bench`,
			"import notes.txt":                  "hyperrr: import notes.txt: invalid: cannot tell the format: the first line is neither a JSON object nor a CSV header with a title column (see docs/import.md)",
			"import --format bench catalog.csv": "hyperrr: none of the 3 rows of catalog.csv could be imported (listed above)",
			"import catalog.jsonl catalog.csv":  "hyperrr: accepts 1 arg(s), received 2",
		} {
			stdout, stderr, code := run(t, dir, nil, strings.Fields(args)...)
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if code != 1 || lines[len(lines)-1] != want {
				t.Errorf("%s: exit %d stdout %q stderr %q, want %q", args, code, stdout, stderr, want)
			}
		}
	})
}
