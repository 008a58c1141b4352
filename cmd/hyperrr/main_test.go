package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hyperrr/hyperrr/mdk/dbtest"
)

// TestMain lets the tests run this binary's real main() as a child process
// (the test binary re-executed), so exit codes and output are the real ones.
func TestMain(m *testing.M) {
	if os.Getenv("HYPERRR_TEST_RUN_MAIN") == "1" {
		os.Args = append([]string{"hyperrr"}, strings.Fields(os.Getenv("HYPERRR_TEST_ARGS"))...)
		main()
		os.Exit(0)
	}
	dbtest.Main(m) // stops the PostgreSQL the cluster tests start
}

func hyperrr(t testing.TB, dir string, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HYPERRR_TEST_RUN_MAIN=1", "HYPERRR_TEST_ARGS="+strings.Join(args, " "))
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

func run(t testing.TB, dir string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := hyperrr(t, dir, env, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

func TestBadDatabaseURLExitsWithOneLine(t *testing.T) {
	_, stderr, code := run(t, t.TempDir(), []string{"HYPERRR_DATABASE_URL=postgres://u:pw@127.0.0.1:1/x?connect_timeout=2"}, "migrate", "up")
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if code == 0 || len(lines) != 1 || !strings.HasPrefix(lines[0], "hyperrr: connect to PostgreSQL postgres://u:xxxxx@127.0.0.1:1/x") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func TestBadConfigExitsWithOneLine(t *testing.T) {
	_, stderr, code := run(t, t.TempDir(), nil, "serve", "--log-format", "yaml")
	if code == 0 || strings.TrimSpace(stderr) != `hyperrr: --log-format="yaml": want text or json` {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func TestKeysAndMigrate(t *testing.T) {
	dir := t.TempDir()
	out, stderr, code := run(t, dir, nil, "keys", "create", "--role", "shopper", "--customer", "cust_9")
	if code != 0 || !strings.HasPrefix(out, "hyr_") {
		t.Fatalf("keys create: exit %d out %q err %q", code, out, stderr)
	}
	key := strings.TrimSpace(out)
	prefix, secret := key[:strings.LastIndex(key, "_")], key[strings.LastIndex(key, "_")+1:]
	out, _, code = run(t, dir, nil, "keys", "list")
	if code != 0 || !strings.Contains(out, prefix) || !strings.Contains(out, "cust_9") || strings.Contains(out, secret) {
		t.Fatalf("keys list: %d %q", code, out)
	}
	if _, stderr, code := run(t, dir, nil, "keys", "revoke", prefix); code != 0 {
		t.Fatalf("revoke: %d %s", code, stderr)
	}
	if _, stderr, code := run(t, dir, nil, "keys", "create", "--role", "admin"); code == 0 || !strings.Contains(stderr, `role "admin"`) {
		t.Fatalf("bad role: %d %q", code, stderr)
	}
	out, _, code = run(t, dir, nil, "migrate", "status")
	if code != 0 || !strings.Contains(out, "0001_init") || strings.Contains(out, "pending") {
		t.Fatalf("migrate status: %d %q", code, out)
	}
}

func TestServeDefaultsAndSIGTERM(t *testing.T) {
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := hyperrr(t, dir, []string{"HYPERRR_ADDR=" + addr})
	cmd.Env = append(cmd.Env, "HYPERRR_TEST_ARGS=serve")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill() //nolint:errcheck // already exited on success
	first, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.Contains(first, "serving http://"+addr) {
		t.Fatalf("banner %q err=%v", first, err)
	}
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", resp, err)
	}
	resp.Body.Close()
	if _, err := os.Stat(dir + "/hyperrr-data/hyperrr.db"); err != nil {
		t.Fatalf("no SQLite database in ./hyperrr-data: %v", err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exited with %v after SIGTERM", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop after SIGTERM")
	}
}
