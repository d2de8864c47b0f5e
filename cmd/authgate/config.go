package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/authgate/authgate/internal/adapter"
)

// Defaults of the configuration file.
const (
	defaultListen = "127.0.0.1:9000"
	defaultRealm  = adapter.DefaultRealm
	// maxConfigSize bounds the configuration file.
	maxConfigSize = 1 << 20
)

// Config is a parsed and validated configuration file. Secrets named by
// secret_env, pepper_env and store_env have been read from the
// environment, and every provider has passed its constructor; nothing is
// kept built, and nothing has been opened or fetched yet (see build).
type Config struct {
	// Path is the file as given; Dir the directory relative paths in it
	// are resolved against.
	Path string
	Dir  string
	// Listen is the address serve listens on.
	Listen string
	// Realm is the realm of every WWW-Authenticate challenge.
	Realm string
	// Log configures serve's logger.
	Log LogConfig
	// Metrics configures serve's Prometheus listener; off when its
	// Listen is empty (no "metrics" section).
	Metrics MetricsConfig
	// ExtAuthz configures serve's Envoy ext_authz gRPC listener; off when
	// its Listen is empty (no "ext_authz" section).
	ExtAuthz ExtAuthzConfig
	// Providers are the configured authenticators, in file order.
	Providers []*ProviderConfig
	// Chain names the providers serve and inspect try, in order.
	Chain []string
	// Rules are the access rules serve applies, first match wins.
	Rules []*RuleConfig
	// Redis configures serve's deny-list and shared failed-attempt
	// limiter; off when its Address is empty (no "redis" section).
	Redis RedisConfig

	chainLine    int
	metricsLine  int
	extAuthzLine int
}

// LogConfig is the "log" section.
type LogConfig struct {
	// Format is "text" (default) or "json".
	Format string
	// Level is "debug", "info" (default), "warn" or "error".
	Level string
}

// MetricsConfig is the "metrics" section.
type MetricsConfig struct {
	// Listen is the address serve answers GET /metrics on, apart from
	// the forward-auth listener; empty means no metrics listener.
	Listen string
}

// ExtAuthzConfig is the "ext_authz" section.
type ExtAuthzConfig struct {
	// Listen is the address serve answers Envoy's ext_authz gRPC calls
	// (envoy.service.auth.v3.Authorization/Check) on, apart from the
	// forward-auth listener; empty means no gRPC listener.
	Listen string
}

// RuleConfig is one entry of "rules".
type RuleConfig struct {
	Index       int
	Line        int
	Path        string
	Methods     []string // upper case; empty: every method
	Roles       []string
	Scopes      []string
	Permissions []string
	Anonymous   bool
}

var (
	nameRE       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	envNameRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	httpMethods  = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"}
	logFormats   = []string{"text", "json"}
	logLevels    = []string{"debug", "info", "warn", "error"}
	maxRoleNames = 64
)

// LoadConfig reads, parses and validates the configuration file at path.
// getenv supplies the environment (secret_env, pepper_env, store_env). The
// error is a *ConfigError listing every problem with its line, or an error
// reading the file.
func LoadConfig(path string, getenv func(string) string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > maxConfigSize {
		return nil, fmt.Errorf("%s: file larger than %d bytes", path, maxConfigSize)
	}
	data := make([]byte, st.Size())
	if _, err := f.ReadAt(data, 0); err != nil && st.Size() > 0 {
		return nil, err
	}
	return ParseConfig(path, data, getenv)
}

// ParseConfig parses and validates configuration data read from path
// (which names the file in messages and anchors relative paths).
func ParseConfig(path string, data []byte, getenv func(string) string) (*Config, error) {
	file := filepath.Base(path)
	root, err := parseYAML(file, data)
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	d := &decoder{file: file, dir: dir, getenv: getenv}
	c := &Config{Path: path, Dir: dir, Listen: defaultListen, Realm: defaultRealm, Log: LogConfig{Format: "text", Level: "info"}}
	c.decode(d, root)
	c.validate(d, root)
	if err := d.err(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) decode(d *decoder, root *yaml.Node) {
	fs, ok := d.fields(root, "")
	if !ok {
		return
	}
	for _, f := range fs {
		switch f.name {
		case "listen":
			c.Listen = d.address(f.value, f.name)
		case "realm":
			c.Realm = d.nonEmpty(f.value, f.name)
			if strings.ContainsFunc(c.Realm, func(r rune) bool { return r < 0x20 || r > 0x7e || r == '"' || r == '\\' }) {
				d.errorf(f.value, f.name, "must be printable ASCII without quotes or backslashes")
			}
		case "log":
			c.decodeLog(d, f)
		case "metrics":
			c.decodeMetrics(d, f)
		case "ext_authz":
			c.decodeExtAuthz(d, f)
		case "providers":
			c.decodeProviders(d, f.value)
		case "chain":
			c.chainLine = f.value.Line
			c.Chain = d.strings(f.value, f.name)
		case "rules":
			c.decodeRules(d, f.value)
		case "redis":
			c.decodeRedis(d, f)
		default:
			unknownField(d, f, "", []string{"listen", "realm", "log", "metrics", "ext_authz", "providers", "chain", "rules", "redis"})
		}
	}
}

func unknownField(d *decoder, f field, path string, known []string) {
	p := join(path, f.name)
	if env, ok := secretFields[f.name]; ok {
		d.errorf(f.key, p, "secrets are never read from the configuration file: put the value in an environment variable and name it with %s", env)
		return
	}
	d.errorf(f.key, p, "unknown field (want one of %s)", strings.Join(known, ", "))
}

// address returns the host:port n holds, reporting at n's line a value
// that is empty or not an address with a port.
func (d *decoder) address(n *yaml.Node, path string) string {
	addr := d.nonEmpty(n, path)
	if _, port, err := net.SplitHostPort(addr); addr != "" && (err != nil || port == "") {
		d.errorf(n, path, "invalid address %q: want host:port", addr)
	}
	return addr
}

func (c *Config) decodeMetrics(d *decoder, mf field) {
	fs, _ := d.fields(mf.value, mf.name)
	listen := false
	for _, f := range fs {
		p := join(mf.name, f.name)
		switch f.name {
		case "listen":
			listen = true
			c.Metrics.Listen = d.address(f.value, p)
			c.metricsLine = f.value.Line
		default:
			unknownField(d, f, mf.name, []string{"listen"})
		}
	}
	if !listen && mf.value.Kind == yaml.MappingNode {
		d.errorf(mf.value, mf.name, "listen is required")
	}
}

func (c *Config) decodeExtAuthz(d *decoder, ef field) {
	fs, _ := d.fields(ef.value, ef.name)
	listen := false
	for _, f := range fs {
		p := join(ef.name, f.name)
		switch f.name {
		case "listen":
			listen = true
			c.ExtAuthz.Listen = d.address(f.value, p)
			c.extAuthzLine = f.value.Line
		default:
			unknownField(d, f, ef.name, []string{"listen"})
		}
	}
	if !listen && ef.value.Kind == yaml.MappingNode {
		d.errorf(ef.value, ef.name, "listen is required")
	}
}

func (c *Config) decodeLog(d *decoder, lf field) {
	fs, _ := d.fields(lf.value, lf.name)
	for _, f := range fs {
		p := join(lf.name, f.name)
		switch f.name {
		case "format":
			c.Log.Format = d.str(f.value, p)
			if !slices.Contains(logFormats, c.Log.Format) {
				d.errorf(f.value, p, "unknown log format %q (want text or json)", c.Log.Format)
			}
		case "level":
			c.Log.Level = d.str(f.value, p)
			if !slices.Contains(logLevels, c.Log.Level) {
				d.errorf(f.value, p, "unknown log level %q (want debug, info, warn or error)", c.Log.Level)
			}
		default:
			unknownField(d, f, lf.name, []string{"format", "level"})
		}
	}
}

func (c *Config) decodeRules(d *decoder, n *yaml.Node) {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "rules", "expected a list, found %s", describe(n))
		return
	}
	for i, e := range n.Content {
		e = resolve(e)
		r := &RuleConfig{Index: i, Line: e.Line}
		c.Rules = append(c.Rules, r)
		base := fmt.Sprintf("rules[%d]", i)
		fs, ok := d.fields(e, base)
		if !ok {
			continue
		}
		for _, f := range fs {
			p := join(base, f.name)
			switch f.name {
			case "path":
				r.Path = d.nonEmpty(f.value, p)
				if r.Path != "" && (!strings.HasPrefix(r.Path, "/") || strings.ContainsAny(r.Path, "?#") || strings.Contains(r.Path, "/../") || strings.Contains(r.Path, "/./") || strings.Contains(r.Path, "//")) {
					d.errorf(f.value, p, "invalid path %q: want a clean absolute path such as /admin/", r.Path)
				}
			case "methods":
				for j, m := range d.strings(f.value, p) {
					um := strings.ToUpper(m)
					if !slices.Contains(httpMethods, um) {
						d.errorf(itemNode(f.value, j), p, "unknown HTTP method %q (want one of %s)", m, strings.Join(httpMethods, ", "))
						continue
					}
					r.Methods = append(r.Methods, um)
				}
			case "roles":
				r.Roles = d.strings(f.value, p)
			case "scopes":
				r.Scopes = d.strings(f.value, p)
			case "permissions":
				r.Permissions = d.strings(f.value, p)
			case "anonymous":
				r.Anonymous = d.boolean(f.value, p)
			default:
				unknownField(d, f, base, []string{"path", "methods", "roles", "scopes", "permissions", "anonymous"})
			}
		}
		if !hasField(fs, "path") {
			d.errorf(e, join(base, "path"), "a path is required (use / for every path)")
		}
		if r.Anonymous && (r.Roles != nil || r.Scopes != nil || r.Permissions != nil) {
			d.errorf(e, base, "an anonymous rule cannot require roles, scopes or permissions")
		}
		if len(r.Roles)+len(r.Scopes)+len(r.Permissions) > maxRoleNames {
			d.errorf(e, base, "at most %d roles, scopes and permissions", maxRoleNames)
		}
	}
}

// validate checks what spans entries: names, the chain, and what the
// providers' constructors and the chain's own checks refuse. It runs
// whatever else is wrong, so that a file's errors are all reported at
// once; only a file without providers is reported alone, as everything
// else depends on them.
func (c *Config) validate(d *decoder, root *yaml.Node) {
	if c.Metrics.Listen != "" && c.Metrics.Listen == c.Listen {
		d.errorAt(c.metricsLine, "metrics.listen", "must differ from listen %q", c.Listen)
	}
	switch l := c.ExtAuthz.Listen; {
	case l != "" && l == c.Listen:
		d.errorAt(c.extAuthzLine, "ext_authz.listen", "must differ from listen %q", c.Listen)
	case l != "" && l == c.Metrics.Listen:
		d.errorAt(c.extAuthzLine, "ext_authz.listen", "must differ from metrics.listen %q", c.Metrics.Listen)
	}
	if len(c.Providers) == 0 {
		if d.count == 0 {
			d.errorf(root, "providers", "at least one provider is required")
		}
		return
	}
	byName := map[string]*ProviderConfig{}
	for _, p := range c.Providers {
		if p.Name == "" {
			continue // reported by decode
		}
		if prev, dup := byName[p.Name]; dup {
			d.errorAt(p.line("name"), p.path("name"), "duplicate provider name %q (first at line %d)", p.Name, prev.line("name"))
			continue
		}
		byName[p.Name] = p
	}
	if c.Chain == nil {
		for _, p := range c.Providers {
			if p.Name != "" {
				c.Chain = append(c.Chain, p.Name)
			}
		}
	} else {
		seen := map[string]bool{}
		for _, name := range c.Chain {
			switch {
			case name == "":
			case byName[name] == nil:
				d.errorAt(c.chainLine, "chain", "unknown provider %q", name)
			case seen[name]:
				d.errorAt(c.chainLine, "chain", "provider %q is listed twice", name)
			}
			seen[name] = true
		}
	}
	c.check(d, byName)
}
