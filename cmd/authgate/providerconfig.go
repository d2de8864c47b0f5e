package main

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/authgate/authgate/providers"
)

// ProviderConfig is one entry of "providers": what every entry has, the
// shared token options of a JWT provider, and the settings of its type
// (see registry).
type ProviderConfig struct {
	Index int
	Line  int
	Name  string
	Type  string

	// Token and Fetch are the shared options of a JWT provider, as the file
	// sets them (Name, Now and Logger are set when it is built).
	Token providers.TokenOptions
	Fetch providers.FetchOptions

	// settings is the type's own settings, a *T of its kind[T]; see
	// settingsOf.
	settings any
	// lines are the lines of the fields present.
	lines map[string]int
	// bad is set when an error was found in the entry: it is then not
	// constructed, which would report the same mistake again.
	bad bool
}

// settingsOf returns the settings of p if its type's settings are a T,
// else nil.
func settingsOf[T any](p *ProviderConfig) *T {
	s, _ := p.settings.(*T)
	return s
}

// line returns the line of a field of the provider, or of the provider.
func (p *ProviderConfig) line(name string) int {
	if l, ok := p.lines[name]; ok {
		return l
	}
	return p.Line
}

// path returns "providers[i].name" for messages.
func (p *ProviderConfig) path(name string) string {
	s := fmt.Sprintf("providers[%d]", p.Index)
	if name != "" {
		s += "." + name
	}
	return s
}

// secretFields are field names people use for secrets. The file never holds
// one: each gets an error pointing at the environment instead.
var secretFields = map[string]string{
	"secret":        "secret_env",
	"hmac_secret":   "secret_env",
	"shared_secret": "secret_env",
	"client_secret": "client_secret_env",
	"private_key":   "secret_env",
	"password":      "store_env",
	"pepper":        "pepper_env",
	"api_key":       "an API key store",
	"token":         "an API key store",
}

func (c *Config) decodeProviders(d *decoder, n *yaml.Node) {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "providers", "expected a list, found %s", describe(n))
		return
	}
	for i, e := range n.Content {
		e = resolve(e)
		p := &ProviderConfig{Index: i, Line: e.Line, lines: map[string]int{}}
		c.Providers = append(c.Providers, p)
		before := d.count
		p.decode(d, e)
		p.bad = d.count > before
	}
}

// decode decodes one entry: name and type first, as the other fields
// depend on the type, then the fields of the type, then what it requires.
func (p *ProviderConfig) decode(d *decoder, e *yaml.Node) {
	fs, ok := d.fields(e, p.path(""))
	if !ok {
		return
	}
	var typeNode *yaml.Node
	for _, f := range fs {
		switch f.name {
		case "name":
			p.Name = d.nonEmpty(f.value, p.path("name"))
			if p.Name != "" && !nameRE.MatchString(p.Name) {
				d.errorf(f.value, p.path("name"), "invalid name %q: use 1 to 64 letters, digits, '.', '_' or '-'", p.Name)
			}
			p.lines["name"] = f.value.Line
		case "type":
			typeNode = f.value
			p.Type = d.nonEmpty(f.value, p.path("type"))
		}
	}
	if p.Name == "" && !hasField(fs, "name") {
		d.errorf(e, p.path("name"), "a name is required")
	}
	t := lookupType(p.Type)
	switch {
	case typeNode == nil:
		d.errorf(e, p.path("type"), "a type is required (one of %s)", strings.Join(typeNames(), ", "))
		return
	case t == nil:
		if p.Type != "" {
			d.errorf(typeNode, p.path("type"), "unknown provider type %q (want one of %s)", p.Type, strings.Join(typeNames(), ", "))
		}
		return
	}
	specs := t.specs(p)
	known := keysOf(specs)
	for _, f := range fs {
		if f.name == "name" || f.name == "type" {
			continue
		}
		i := slices.IndexFunc(specs, func(s spec) bool { return s.key == f.name })
		if i < 0 {
			if _, secret := secretFields[f.name]; secret || !isProviderField(f.name) {
				unknownField(d, f, p.path(""), append([]string{"name", "type"}, known...))
			} else {
				d.errorf(f.key, p.path(f.name), "not a field of type %s (want one of %s)", p.Type, strings.Join(known, ", "))
			}
			continue
		}
		p.lines[f.name] = f.value.Line
		specs[i].decode(d, f.value, p.path(f.name))
	}
	for _, r := range t.required {
		if !slices.ContainsFunc(r.keys, func(k string) bool { _, ok := p.lines[k]; return ok }) {
			d.errorAt(p.Line, p.path(r.keys[0]), "%s", r.why)
		}
	}
	if t.check != nil {
		t.check(p, d)
	}
}

func hasField(fs []field, name string) bool {
	return slices.ContainsFunc(fs, func(f field) bool { return f.name == name })
}

// isProviderField reports whether some provider type has the field.
func isProviderField(name string) bool {
	for _, t := range registry {
		if slices.Contains(keysOf(t.specs(&ProviderConfig{})), name) {
			return true
		}
	}
	return false
}
