package gateway

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/hyperrr/hyperrr/graph"
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
	// GraphQL limits and the public response cache (graph.Config).
	GraphQLMaxComplexity int
	GraphQLMaxDepth      int
	GraphQLCacheEntries  int
	// GraphQLCORSOrigins are the browser origins allowed to call /graphql
	// from another site (graph.Config.CORSOrigins).
	GraphQLCORSOrigins []string
	// PublicURL is how clients reach this server (https://shop.example.com);
	// the UCP profile advertises PublicURL/mcp. Empty: the request's host.
	PublicURL string
	// MCPAllowedOrigins are browser origins allowed to call /mcp besides
	// loopback ones and PublicURL's.
	MCPAllowedOrigins []string
	// NATSURL, when set, replaces the in-process bus with NATS JetStream,
	// shared by every instance.
	NATSURL          string
	NATSStreamMaxAge time.Duration
	NATSReplicas     int
	// MilvusAddr is the default of every module's milvus_addr setting.
	MilvusAddr string
	// LLMBaseURL, LLMModel and LLMAPIKey name the chat model of the
	// catalog agent (any OpenAI-compatible server); unset, the agent
	// answers that it needs them and nothing else changes.
	LLMBaseURL string
	LLMModel   string
	LLMAPIKey  string
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
	{"graphql-max-complexity", "HYPERRR_GRAPHQL_MAX_COMPLEXITY", "5000", "largest cost of one GraphQL query (a field costs 1, a list field its page size times its selection)",
		func(c *Config, v string) (err error) { c.GraphQLMaxComplexity, err = positiveInt(v); return err }},
	{"graphql-max-depth", "HYPERRR_GRAPHQL_MAX_DEPTH", "12", "deepest field nesting of one GraphQL query",
		func(c *Config, v string) (err error) { c.GraphQLMaxDepth, err = positiveInt(v); return err }},
	{"graphql-cache-entries", "HYPERRR_GRAPHQL_CACHE_ENTRIES", "1000", "anonymous catalog query responses kept in memory until a product or stock change; 0 turns the cache off",
		func(c *Config, v string) (err error) {
			c.GraphQLCacheEntries, err = strconv.Atoi(v)
			if err == nil && c.GraphQLCacheEntries < 0 {
				err = fmt.Errorf("want 0 or more")
			}
			if c.GraphQLCacheEntries == 0 {
				c.GraphQLCacheEntries = -1 // graph.Config: negative is off
			}
			return err
		}},
	{"graphql-cors-origins", "HYPERRR_GRAPHQL_CORS_ORIGINS", "", "comma-separated browser origins (https://shop.example.com) allowed to call /graphql and open its WebSockets from another site, or * alone for any (no credentials are ever allowed: keys go in the Authorization header); empty means same-origin only",
		func(c *Config, v string) error {
			c.GraphQLCORSOrigins = splitList(v)
			_, err := graph.NewOrigins(c.GraphQLCORSOrigins)
			return err
		}},
	{"public-url", "HYPERRR_PUBLIC_URL", "", "URL clients reach this server at (https://shop.example.com); the UCP profile at /.well-known/ucp advertises <url>/mcp (default: the request's host)",
		func(c *Config, v string) error {
			v = strings.TrimRight(v, "/")
			if v != "" && !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") {
				return fmt.Errorf("want an absolute http(s) URL such as https://shop.example.com")
			}
			c.PublicURL = v
			return nil
		}},
	{"mcp-allowed-origins", "HYPERRR_MCP_ALLOWED_ORIGINS", "", "comma-separated browser origins (https://app.example.com, or *) allowed to call /mcp besides loopback and the public URL; others get 403",
		func(c *Config, v string) error {
			c.MCPAllowedOrigins = splitList(v)
			return nil
		}},
	{"nats-url", "HYPERRR_NATS_URL", "", "NATS server URL(s), comma-separated (nats://nats-1:4222,nats://nats-2:4222): events go through JetStream and instances share the work; empty means the in-process bus of a single instance",
		func(c *Config, v string) error { c.NATSURL = v; return nil }},
	{"nats-stream-max-age", "HYPERRR_NATS_STREAM_MAX_AGE", "72h", "how long the JetStream event stream keeps events, handled or not",
		func(c *Config, v string) (err error) { c.NATSStreamMaxAge, err = positiveDuration(v); return err }},
	{"nats-replicas", "HYPERRR_NATS_REPLICAS", "1", "copies of the event stream in the NATS cluster: 1 for one server, 3 for a three-node cluster",
		func(c *Config, v string) (err error) {
			c.NATSReplicas, err = strconv.Atoi(v)
			if err == nil && (c.NATSReplicas < 1 || c.NATSReplicas > 5) {
				err = fmt.Errorf("want 1 to 5")
			}
			return err
		}},
	{"milvus-addr", "HYPERRR_MILVUS_ADDR", "", "Milvus address (milvus:19530) holding product vectors for every instance; HYPERRR_PRODUCT_MILVUS_ADDR overrides it; empty keeps vectors in each process",
		func(c *Config, v string) error { c.MilvusAddr = v; return nil }},
	{"llm-base-url", "HYPERRR_LLM_BASE_URL", "", "OpenAI-compatible API root of the catalog agent's chat model (Ollama: http://localhost:11434/v1); empty means OpenAI",
		func(c *Config, v string) error { c.LLMBaseURL = v; return nil }},
	{"llm-model", "HYPERRR_LLM_MODEL", "", "chat model of the catalog agent; it must support tool calls (empty: the agent is off)",
		func(c *Config, v string) error { c.LLMModel = v; return nil }},
	{"llm-api-key", "OPENAI_API_KEY", "", "API key sent to the chat model's server (prefer the variable: flags show in process lists)",
		func(c *Config, v string) error { c.LLMAPIKey = v; return nil }},
}

// splitList splits a comma-separated setting, dropping blanks.
func splitList(v string) []string {
	var list []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			list = append(list, s)
		}
	}
	return list
}

func positiveInt(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("want a positive whole number")
	}
	return n, nil
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
