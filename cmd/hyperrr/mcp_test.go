package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// TestMCPStdio runs `hyperrr mcp` as a desktop client would: JSON-RPC
// lines on stdin, and nothing but JSON-RPC on stdout (logs on stderr).
func TestMCPStdio(t *testing.T) {
	dir := t.TempDir()
	env := []string{"HYPERRR_DATA_DIR=" + dir + "/data", "HYPERRR_PRODUCT_EMBEDDER=none"}
	key, stderr, code := run(t, dir, env, "keys", "create", "--role", "merchant")
	if code != 0 {
		t.Fatalf("keys create: exit %d: %s", code, stderr)
	}
	for _, tc := range []struct {
		name, key string
		tools     func(n int) bool
	}{
		{"OKAnonymousCatalogOnly", "", func(n int) bool { return n == 3 }},
		{"OKMerchantKey", strings.TrimSpace(key), func(n int) bool { return n > 25 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := hyperrr(t, dir, append(env, "HYPERRR_API_KEY="+tc.key), "mcp")
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var errBuf strings.Builder
			cmd.Stderr = &errBuf
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := bufio.NewScanner(stdout)
			lines.Buffer(make([]byte, 1<<20), 4<<20)
			send := func(id int, method, params string) map[string]any {
				t.Helper()
				fmt.Fprintf(stdin, `{"jsonrpc":"2.0","id":%d,"method":%q,"params":%s}`+"\n", id, method, params)
				done := make(chan bool, 1)
				go func() { done <- lines.Scan() }()
				select {
				case ok := <-done:
					if !ok {
						t.Fatalf("%s: stdout ended; stderr:\n%s", method, errBuf.String())
					}
				case <-time.After(30 * time.Second):
					t.Fatalf("%s: no answer in 30s; stderr:\n%s", method, errBuf.String())
				}
				var msg map[string]any
				if err := json.Unmarshal(lines.Bytes(), &msg); err != nil || msg["id"] != float64(id) {
					t.Fatalf("stdout line is not the JSON-RPC answer to %s: %q", method, lines.Text())
				}
				return msg
			}
			send(1, "initialize", `{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}`)
			fmt.Fprintln(stdin, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
			list := send(2, "tools/list", `{}`)
			n := len(list["result"].(map[string]any)["tools"].([]any))
			if !tc.tools(n) {
				t.Errorf("%d tools listed", n)
			}
			res := send(3, "tools/call", `{"name":"search_catalog","arguments":{"catalog":{"query":"table"}}}`)["result"].(map[string]any)
			if res["isError"] == true || len(res["structuredContent"].(map[string]any)["products"].([]any)) == 0 {
				t.Errorf("search_catalog over stdio: %v", res)
			}
			stdin.Close()
			if err := cmd.Wait(); err != nil {
				t.Errorf("hyperrr mcp exited with %v; stderr:\n%s", err, errBuf.String())
			}
			if rest, _ := io.ReadAll(stdout); len(strings.TrimSpace(string(rest))) > 0 {
				t.Errorf("extra stdout after the answers: %q", rest)
			}
			if !strings.Contains(errBuf.String(), "serving MCP on stdio") {
				t.Errorf("logs did not go to stderr: %q", errBuf.String())
			}
		})
	}
	t.Run("ErrBadKey", func(t *testing.T) {
		_, stderr, code := run(t, dir, append(env, "HYPERRR_API_KEY=hyp_wrong"), "mcp")
		if code == 0 || !strings.Contains(stderr, "--api-key") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
}
