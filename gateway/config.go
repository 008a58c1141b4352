package gateway

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// Config is the server's configuration. Every field has a flag and a
// HYPERRR_* environment variable (flag wins over variable, variable over
// default); Settings lists them for --help and the README.
type Config struct {
	Addr            string
	DataDir         string
	DatabaseURL     string
	LogLevel        slog.Level
	LogFormat       string
	ShutdownTimeout time.Duration
	WorkflowLease   time.Duration
	InstanceID      string
	MaxBodyBytes    int64
}

// Setting is one configuration knob.
type Setting struct {
	Flag    string
	Env     string
	Default string
	Usage   string
	apply   func(c *Config, v string) error
}

// Settings are every knob of Config, in the order the README documents them.
var Settings = []Setting{
	{"addr", "HYPERRR_ADDR", "127.0.0.1:8080", "address the HTTP server listens on",
		func(c *Config, v string) error { c.Addr = v; return nil }},
	{"data-dir", "HYPERRR_DATA_DIR", "./hyperrr-data", "directory of the embedded SQLite database (when no database URL is set)",
		func(c *Config, v string) error { c.DataDir = v; return nil }},
	{"database-url", "HYPERRR_DATABASE_URL", "", "PostgreSQL URL (postgres://user:pass@host:5432/db); empty means embedded SQLite",
		func(c *Config, v string) error { c.DatabaseURL = v; return nil }},
	{"log-level", "HYPERRR_LOG_LEVEL", "info", "debug, info, warn or error",
		func(c *Config, v string) error { return c.LogLevel.UnmarshalText([]byte(v)) }},
	{"log-format", "HYPERRR_LOG_FORMAT", "text", "text or json",
		func(c *Config, v string) error {
			if v != "text" && v != "json" {
				return fmt.Errorf("want text or json")
			}
			c.LogFormat = v
			return nil
		}},
	{"shutdown-timeout", "HYPERRR_SHUTDOWN_TIMEOUT", "20s", "how long a graceful shutdown waits for in-flight requests and workflow steps",
		func(c *Config, v string) (err error) { c.ShutdownTimeout, err = positiveDuration(v); return err }},
	{"workflow-lease", "HYPERRR_WORKFLOW_LEASE", "30s", "how long a workflow run stays claimed by an instance that stopped renewing it",
		func(c *Config, v string) (err error) { c.WorkflowLease, err = positiveDuration(v); return err }},
	{"instance-id", "HYPERRR_INSTANCE_ID", "", "name of this instance in leases and logs (default: hostname-pid)",
		func(c *Config, v string) error { c.InstanceID = v; return nil }},
	{"max-body-bytes", "HYPERRR_MAX_BODY_BYTES", "8388608", "largest request body accepted (import_products takes up to 4 MiB of content)",
		func(c *Config, v string) (err error) {
			c.MaxBodyBytes, err = strconv.ParseInt(v, 10, 64)
			if err == nil && c.MaxBodyBytes <= 0 {
				err = fmt.Errorf("want a positive number of bytes")
			}
			return err
		}},
}

func positiveDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("want a positive duration such as 20s or 1m")
	}
	return d, nil
}

// BindFlags adds a flag per setting to fs and returns a function that
// resolves the final Config after fs is parsed.
func BindFlags(fs *pflag.FlagSet) func() (Config, error) {
	values := make([]*string, len(Settings))
	for i, s := range Settings {
		values[i] = fs.String(s.Flag, s.Default, s.Usage+" ["+s.Env+"]")
	}
	return func() (Config, error) {
		var c Config
		for i, s := range Settings {
			v := *values[i]
			source := "--" + s.Flag
			if !fs.Changed(s.Flag) {
				if env, ok := os.LookupEnv(s.Env); ok {
					v, source = env, s.Env
				}
			}
			if err := s.apply(&c, v); err != nil {
				return Config{}, fmt.Errorf("%s=%q: %v", source, v, err)
			}
		}
		if c.InstanceID == "" {
			host, _ := os.Hostname() // an empty host still yields a unique pid suffix
			c.InstanceID = fmt.Sprintf("%s-%d", host, os.Getpid())
		}
		return c, nil
	}
}

// DefaultConfig is the configuration with every setting at its default and
// no environment applied, for tests and embedding.
func DefaultConfig() Config {
	var c Config
	for _, s := range Settings {
		if err := s.apply(&c, s.Default); err != nil {
			panic(fmt.Sprintf("default of %s: %v", s.Flag, err)) // a bad default is a programming error caught by every test
		}
	}
	c.InstanceID = fmt.Sprintf("test-%d", os.Getpid())
	return c
}

// sectionValues collects HYPERRR_<SECTION>_<KEY> variables for a module's
// config section.
func sectionValues(section string, environ []string) map[string]string {
	prefix := "HYPERRR_" + strings.ToUpper(section) + "_"
	out := map[string]string{}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(k, prefix) {
			out[strings.ToLower(strings.TrimPrefix(k, prefix))] = v
		}
	}
	return out
}
