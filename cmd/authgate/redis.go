package main

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.yaml.in/yaml/v3"

	"github.com/authgate/authgate/apikey"
	"github.com/authgate/authgate/redis/denylist"
	"github.com/authgate/authgate/redis/limiter"
)

// Timeouts of serve's Redis connection: a request never waits long on it.
const (
	redisDialTimeout = 2 * time.Second
	redisIOTimeout   = time.Second
	// denyListWait is how long a build waits for the deny-list's first
	// load, so that a reload does not answer 503 while the new generation
	// loads; past it serve goes on, failing closed until the list is in.
	denyListWait = 3 * time.Second
)

// RedisConfig is the "redis" section: the connection, and what serve keeps
// in it. Without the section (Address empty) serve uses no Redis.
type RedisConfig struct {
	// Address is the Redis server's host:port.
	Address string
	// Username is the ACL user, if any.
	Username string
	// PasswordEnv names the environment variable holding the password.
	PasswordEnv string
	// DB is the database number.
	DB int
	// TLS connects with TLS, verifying the server against the system's
	// roots.
	TLS bool
	// DenyList configures the deny-list; nil without "deny_list".
	DenyList *DenyListConfig
	// FailureLimiter configures the shared failed-attempt limiter; nil
	// without "failure_limiter".
	FailureLimiter *FailureLimiterConfig

	password string // from PasswordEnv; never printed
}

// DenyListConfig is "redis.deny_list": when present, every provider of the
// chain refuses what the list denies.
type DenyListConfig struct {
	Prefix           string
	Heartbeat        time.Duration
	Grace            time.Duration
	InsecureFailOpen bool
}

// FailureLimiterConfig is "redis.failure_limiter": when present, the
// failure_limit of every apikey provider counts in Redis, one budget per
// client and provider for all replicas.
type FailureLimiterConfig struct {
	Prefix string
}

func (c *Config) decodeRedis(d *decoder, rf field) {
	fs, _ := d.fields(rf.value, rf.name)
	r := &c.Redis
	var password []byte
	for _, f := range fs {
		p := join(rf.name, f.name)
		switch f.name {
		case "address":
			r.Address = d.address(f.value, p)
		case "username":
			r.Username = d.nonEmpty(f.value, p)
		case "password_env":
			envField("password_env", &r.PasswordEnv, &password).decode(d, f.value, p)
			r.password = string(password)
		case "password":
			d.errorf(f.key, p, "secrets are never read from the configuration file: put the value in an environment variable and name it with password_env")
		case "db":
			r.DB = d.integer(f.value, p, 0, 15)
		case "tls":
			r.TLS = d.boolean(f.value, p)
		case "deny_list":
			r.DenyList = decodeDenyList(d, f, p)
		case "failure_limiter":
			r.FailureLimiter = decodeFailureLimiter(d, f, p)
		default:
			unknownField(d, f, rf.name, []string{"address", "username", "password_env", "db", "tls", "deny_list", "failure_limiter"})
		}
	}
	if r.Address == "" && rf.value.Kind == yaml.MappingNode && !hasField(fs, "address") {
		d.errorf(rf.value, rf.name, "address is required")
	}
	if r.Address != "" && r.DenyList == nil && r.FailureLimiter == nil {
		d.errorf(rf.value, rf.name, "nothing uses Redis: add deny_list or failure_limiter")
	}
}

func decodeDenyList(d *decoder, df field, path string) *DenyListConfig {
	out := &DenyListConfig{}
	fs, _ := d.fields(df.value, path)
	for _, f := range fs {
		p := join(path, f.name)
		switch f.name {
		case "prefix":
			out.Prefix = d.nonEmpty(f.value, p)
		case "heartbeat":
			out.Heartbeat = d.duration(f.value, p)
		case "grace":
			out.Grace = d.duration(f.value, p)
		case "insecure_fail_open":
			out.InsecureFailOpen = d.boolean(f.value, p)
		default:
			unknownField(d, f, path, []string{"prefix", "heartbeat", "grace", "insecure_fail_open"})
		}
	}
	// The list's own rules, checked here so that they come with the line.
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:0"})
	defer c.Close()
	if _, err := denylist.New(out.config(c)); err != nil {
		d.errorf(df.value, path, "%v", err)
	}
	return out
}

func decodeFailureLimiter(d *decoder, lf field, path string) *FailureLimiterConfig {
	out := &FailureLimiterConfig{}
	fs, _ := d.fields(lf.value, path)
	for _, f := range fs {
		p := join(path, f.name)
		switch f.name {
		case "prefix":
			out.Prefix = d.nonEmpty(f.value, p)
		default:
			unknownField(d, f, path, []string{"prefix"})
		}
	}
	return out
}

func (c *DenyListConfig) config(client goredis.UniversalClient) denylist.Config {
	return denylist.Config{Client: client, Prefix: c.Prefix, Heartbeat: c.Heartbeat, Grace: c.Grace, InsecureFailOpen: c.InsecureFailOpen}
}

// client returns a new client of the configured Redis. It does no I/O.
func (r *RedisConfig) client() *goredis.Client {
	o := &goredis.Options{
		Addr:         r.Address,
		Username:     r.Username,
		Password:     r.password,
		DB:           r.DB,
		DialTimeout:  redisDialTimeout,
		ReadTimeout:  redisIOTimeout,
		WriteTimeout: redisIOTimeout,
		// A command is retried once at most: a request waits on Redis for
		// a bounded time, and the list's own loop does the reconnecting.
		MaxRetries: 1,
	}
	if r.TLS {
		host, _, _ := net.SplitHostPort(r.Address)
		o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host}
	}
	return goredis.NewClient(o)
}

// redisRuntime is what serve keeps in Redis for one generation: the
// client, and the deny-list and limiter settings that use it.
type redisRuntime struct {
	cfg    *RedisConfig
	client *goredis.Client
	deny   *denylist.List // nil without deny_list
}

// openRedis connects the generation to Redis when the configuration has a
// redis section: it starts following the deny-list (whose checks answer
// 503 until it is loaded, and which logs and reports through o) and closes
// both with the gateway. It waits denyListWait at most for the first load:
// serve starts while Redis is out of reach.
func openRedis(ctx context.Context, cfg *Config, o buildOptions) (*redisRuntime, []func() error, error) {
	if cfg.Redis.Address == "" {
		return nil, nil, nil
	}
	rt := &redisRuntime{cfg: &cfg.Redis, client: cfg.Redis.client()}
	closers := []func() error{rt.client.Close}
	if dc := cfg.Redis.DenyList; dc != nil {
		lc := dc.config(rt.client)
		lc.Logger, lc.Observer, lc.Now = o.logger, o.observer, o.now
		l, err := denylist.New(lc)
		if err != nil {
			rt.client.Close()
			return nil, nil, err
		}
		wctx, cancel := context.WithTimeout(ctx, denyListWait)
		if err := l.Ready(wctx); err != nil {
			o.logger.Warn("authgate: deny-list not loaded yet: requests answer 503 until it is", slog.String("error", err.Error()))
		}
		cancel()
		rt.deny = l
		// Stop following the list before the client closes.
		closers = append([]func() error{l.Close}, closers...)
	}
	return rt, closers, nil
}

// guard puts the deny-list in front of every built provider, before the
// chain is composed (the guard describes itself as what it wraps).
func (rt *redisRuntime) guard(ps []*provider) {
	if rt == nil || rt.deny == nil {
		return
	}
	for _, p := range ps {
		p.auth = rt.deny.Guard(p.auth)
	}
}

// limit makes cfg count its failed attempts in Redis, when the
// configuration asks for it and cfg has a failure limit; the budget is per
// provider, as with the in-memory limiter of each authenticator.
func (rt *redisRuntime) limit(cfg *apikey.Config) error {
	if rt == nil || rt.cfg.FailureLimiter == nil || cfg.FailureLimit == 0 {
		return nil
	}
	prefix := rt.cfg.FailureLimiter.Prefix
	if prefix == "" {
		prefix = limiter.DefaultPrefix
	}
	l, err := limiter.New(limiter.Config{Client: rt.client, Limit: cfg.FailureLimit, Window: cfg.FailureWindow, Prefix: prefix + cfg.Name + ":"})
	if err != nil {
		return err
	}
	cfg.Limiter, cfg.FailureLimit = l, 0
	return nil
}

// openDenyList connects to the configured deny-list for the deny command.
func openDenyList(cfg *Config) (*denylist.List, func(), error) {
	if cfg.Redis.Address == "" || cfg.Redis.DenyList == nil {
		return nil, nil, errors.New("the configuration has no redis.deny_list")
	}
	c := cfg.Redis.client()
	l, err := denylist.New(cfg.Redis.DenyList.config(c))
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return l, func() { l.Close(); c.Close() }, nil
}
