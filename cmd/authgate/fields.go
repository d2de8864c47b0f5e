package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/authgate/authgate/providers"
)

// spec is one YAML key of a provider type: how its value is decoded and
// where the result is stored. A type's specs are bound to one entry's
// settings, the way flag.StringVar binds a flag to a variable.
type spec struct {
	key    string
	decode func(d *decoder, n *yaml.Node, path string)
}

// keysOf returns the keys of specs, in order.
func keysOf(specs []spec) []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.key
	}
	return out
}

// stringField is a non-empty string.
func stringField(key string, dst *string) spec {
	return spec{key, func(d *decoder, n *yaml.Node, path string) { *dst = d.nonEmpty(n, path) }}
}

// listField is a non-empty list of non-empty strings, or a single string.
func listField(key string, dst *[]string) spec {
	return spec{key, func(d *decoder, n *yaml.Node, path string) { *dst = d.strings(n, path) }}
}

// boolField is true or false.
func boolField(key string, dst *bool) spec {
	return spec{key, func(d *decoder, n *yaml.Node, path string) { *dst = d.boolean(n, path) }}
}

// intField is an integer within [min, max].
func intField(key string, dst *int, min, max int) spec {
	return spec{key, func(d *decoder, n *yaml.Node, path string) { *dst = d.integer(n, path, min, max) }}
}

// durationField is a Go duration; "0s" is stored as 0.
func durationField(key string, dst *time.Duration) spec {
	return spec{key, func(d *decoder, n *yaml.Node, path string) { *dst = d.duration(n, path) }}
}

// positiveDurationField is a duration where 0 would silently mean the
// default: it is refused, so that the key is left out instead.
func positiveDurationField(key string, dst *time.Duration) spec {
	return spec{key, func(d *decoder, n *yaml.Node, path string) {
		before := d.count
		if *dst = d.duration(n, path); *dst == 0 && d.count == before {
			d.errorf(n, path, "must be positive (leave %s out for the default)", key)
		}
	}}
}

// urlField is an absolute URL as providers.CheckURL accepts it: https,
// or plain http for a loopback host, without user information or
// fragment.
func urlField(key string, dst *string) spec {
	return spec{key, func(d *decoder, n *yaml.Node, path string) {
		if *dst = d.nonEmpty(n, path); *dst == "" {
			return
		}
		if _, err := providers.CheckURL(*dst); err != nil {
			d.errorf(n, path, "%v", err)
			*dst = ""
		}
	}}
}

// enumField is one of the given values.
func enumField(key string, dst *string, values ...string) spec {
	return spec{key, func(d *decoder, n *yaml.Node, path string) {
		if *dst = d.nonEmpty(n, path); *dst != "" && !slices.Contains(values, *dst) {
			d.errorf(n, path, "unknown %s %q (want %s)", key, *dst, strings.Join(values, " or "))
			*dst = ""
		}
	}}
}

// pathField is a file path, anchored at the configuration file's
// directory.
func pathField(key string, dst *string) spec {
	return spec{key, func(d *decoder, n *yaml.Node, path string) {
		if *dst = d.nonEmpty(n, path); *dst != "" && !filepath.IsAbs(*dst) {
			*dst = filepath.Join(d.dir, *dst)
		}
	}}
}

// envField is the name of an environment variable holding a secret: the
// name goes to name, the variable's value to value. An unset or empty
// variable is an error.
func envField(key string, name *string, value *[]byte) spec {
	return spec{key, func(d *decoder, n *yaml.Node, path string) {
		if *name = d.envName(n, path); *name == "" {
			return
		}
		v := d.getenv(*name)
		if v == "" {
			d.errorf(n, path, "environment variable %s is not set", *name)
			return
		}
		*value = []byte(v)
	}}
}

// tokenFields are the keys of providers.TokenOptions (all but what the
// command sets itself: Name, Now, Logger, Validate). They are decoded by
// this one code for every JWT provider type; a type lists in
// kind.token which of them it takes.
func tokenFields(t *providers.TokenOptions) []spec {
	return []spec{
		listField("audience", &t.Audience),
		listField("authorized_parties", &t.AuthorizedParties),
		{"algorithms", func(d *decoder, n *yaml.Node, path string) { t.Algorithms = d.algorithms(n, path) }},
		{"leeway", func(d *decoder, n *yaml.Node, path string) { t.Leeway = d.leeway(n, path) }},
		{"claims", func(d *decoder, n *yaml.Node, path string) { t.Claims = d.claims(n, path) }},
		stringField("roles_claim", &t.RolesClaim),
		stringField("tenant_claim", &t.TenantClaim),
		listField("token_types", &t.TokenTypes),
		intField("cache_size", &t.CacheSize, 0, providers.MaxCacheSize),
		durationField("cache_ttl", &t.CacheTTL),
	}
}

// fetchFields are the keys of providers.FetchOptions (but HTTPClient),
// for the types whose keys come from the network.
func fetchFields(f *providers.FetchOptions) []spec {
	return []spec{
		positiveDurationField("cooldown", &f.Cooldown),
		positiveDurationField("max_key_age", &f.MaxKeyAge),
		positiveDurationField("refresh_interval", &f.RefreshInterval),
	}
}

// tokenKeys are the keys of tokenFields.
var tokenKeys = keysOf(tokenFields(new(providers.TokenOptions)))

// without returns keys less the given ones.
func without(keys []string, drop ...string) []string {
	return slices.DeleteFunc(slices.Clone(keys), func(k string) bool { return slices.Contains(drop, k) })
}

// algorithms decodes an allow-list of JWS algorithms.
func (d *decoder) algorithms(n *yaml.Node, path string) []string {
	algs := d.strings(n, path)
	for i, a := range algs {
		if a != "" && !providers.SupportedAlgorithm(a) {
			d.errorf(itemNode(n, i), path, "unsupported algorithm %q (want one of %s)", a, strings.Join(providers.Algorithms(), ", "))
		}
	}
	return algs
}

// leeway decodes a leeway: at most providers.MaxLeeway, and "0s" means
// none (providers.NoLeeway), not the default.
func (d *decoder) leeway(n *yaml.Node, path string) time.Duration {
	v := d.duration(n, path)
	switch {
	case v > providers.MaxLeeway:
		d.errorf(n, path, "leeway %q is over the maximum of %v", n.Value, providers.MaxLeeway)
	case v == 0:
		return providers.NoLeeway
	}
	return v
}

func itemNode(n *yaml.Node, i int) *yaml.Node {
	if n.Kind == yaml.SequenceNode && i < len(n.Content) {
		return n.Content[i]
	}
	return n
}

func (d *decoder) envName(n *yaml.Node, path string) string {
	s := d.nonEmpty(n, path)
	if s != "" && !envNameRE.MatchString(s) {
		d.errorf(n, path, "invalid environment variable name %q", s)
		return ""
	}
	return s
}

// claims decodes claim rules: name → {essential, value, values}. values
// takes a single value as a list of one.
func (d *decoder) claims(n *yaml.Node, path string) providers.Claims {
	fs, _ := d.fields(n, path)
	out := providers.Claims{}
	for _, f := range fs {
		p := join(path, f.name)
		var c providers.Claim
		rule, _ := d.fields(f.value, p)
		for _, r := range rule {
			rp := join(p, r.name)
			switch r.name {
			case "essential":
				c.Essential = d.boolean(r.value, rp)
			case "value":
				c.Value = d.scalar(r.value, rp)
			case "values":
				c.Values = d.values(r.value, rp)
			default:
				unknownField(d, r, p, []string{"essential", "value", "values"})
			}
		}
		switch {
		case c.Value != nil && c.Values != nil:
			d.errorf(f.value, p, "set value or values, not both")
		case !c.Essential && c.Value == nil && c.Values == nil:
			d.errorf(f.value, p, "a claim rule needs essential: true, value or values")
		}
		out[f.name] = c
	}
	return out
}

// values decodes the accepted values of a claim rule: a non-empty list of
// scalars, or one scalar.
func (d *decoder) values(n *yaml.Node, path string) []any {
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		if v := d.scalar(n, path); v != nil {
			return []any{v}
		}
		return nil
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		d.errorf(n, path, "expected a non-empty list")
		return nil
	}
	out := make([]any, 0, len(n.Content))
	for i, e := range n.Content {
		out = append(out, d.scalar(resolve(e), fmt.Sprintf("%s[%d]", path, i)))
	}
	return out
}
