package main

import (
	"bytes"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/hyperrr/hyperrr/tools/agent/llmtest"
)

func TestAgentChatsInTheTerminal(t *testing.T) {
	dir := t.TempDir()
	llm := llmtest.New(t,
		llmtest.Step{Calls: []llmtest.ToolCall{llmtest.Call("create_product", map[string]any{
			"title": "Red wool scarf", "variants": []any{map[string]any{"sku": "SCARF-RED", "price": 2500, "stock": 40}},
		})}},
		llmtest.Step{Text: "Added 40 red wool scarves at $25."},
		llmtest.Step{Func: func(r llmtest.Request) llmtest.Step {
			id := regexp.MustCompile(`prod_[a-z0-9]+`).FindString(strings.Join(messages(r), "\n"))
			return llmtest.Step{Calls: []llmtest.ToolCall{llmtest.Call("archive_product", map[string]any{"id": id})}}
		}},
	)
	env := []string{"HYPERRR_LLM_BASE_URL=" + llm.URL, "HYPERRR_LLM_MODEL=scripted", "HYPERRR_AGENT_LLM_RETRIES=0",
		"HYPERRR_PRODUCT_EMBEDDER=none", "HYPERRR_DATA_DIR=" + dir, "HYPERRR_LOG_LEVEL=warn"}
	stdout, stderr, code := runWithStdin(t, dir, env, "add 40 red wool scarves at $25, one size\narchive the scarf\ny\n", "agent")
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	for _, want := range []string{"Added 40 red wool scarves at $25.", "✓ create_product", "need your confirmation", "1. archive_product {\"id\":\"prod_", "Apply these changes? [y/N]", "Applied proposal prop_"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	conv := regexp.MustCompile(`--conversation (conv_[a-z0-9]+)`).FindStringSubmatch(stderr)
	if conv == nil {
		t.Fatalf("stderr names no conversation: %s", stderr)
	}

	t.Run("ContinueWithoutModel", func(t *testing.T) {
		_, stderr, code := runWithStdin(t, dir, []string{"HYPERRR_DATA_DIR=" + dir, "HYPERRR_LLM_MODEL=", "HYPERRR_LLM_BASE_URL="}, "hello\n", "agent", "--conversation", conv[1])
		if code == 0 || !strings.Contains(stderr, "set HYPERRR_LLM_MODEL") {
			t.Errorf("exit %d, stderr %s", code, stderr)
		}
	})
	t.Run("ErrUnknownConversation", func(t *testing.T) {
		_, stderr, code := runWithStdin(t, dir, env, "hello\n", "agent", "--conversation", "conv_nope")
		if code == 0 || !strings.Contains(stderr, `no conversation "conv_nope"`) {
			t.Errorf("exit %d, stderr %s", code, stderr)
		}
	})
}

func messages(r llmtest.Request) []string {
	out := make([]string, len(r.Messages))
	for i, m := range r.Messages {
		out[i] = m.Text()
	}
	return out
}

func runWithStdin(t *testing.T, dir string, env []string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := hyperrr(t, dir, env, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}
