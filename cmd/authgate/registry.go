package main

import (
	"context"
	"slices"

	"github.com/authgate/authgate"

	"github.com/authgate/authgate/providers"
)

// registry lists the provider types, in the order messages name them. A
// type is one entry: its own fields, which shared token options it takes,
// what it requires, and how it is constructed. The shared options are
// decoded by tokenFields and fetchFields for every JWT type.
var registry = []providerType{
	staticType,
	oidcType,
	auth0Type,
	keycloakType,
	firebaseType,
	cognitoType,
	oktaType,
	entraType,
	googleType,
	googleIAPType,
	githubType,
	kubernetesType,
	introspectionType,
	apikeyType,
}

// providerType is one entry of the registry, made by kind[T].entry.
type providerType struct {
	name     string
	token    []string
	fetch    bool
	required []requirement
	// settings returns a new settings value and its own fields, bound to
	// it.
	settings func() (any, []spec)
	check    func(p *ProviderConfig, d *decoder)
	build    func(ctx context.Context, p *ProviderConfig, o buildOptions) (*provider, string, error)
}

// kind describes a provider type whose own settings are a T.
type kind[T any] struct {
	// name is the value of "type".
	name string
	// token lists the keys of the shared token options (tokenKeys, or some
	// of them) the type takes; fetch adds the key-fetch options (cooldown,
	// max_key_age, refresh_interval) and prefetching at start-up, for a
	// type whose keys come from the network. Both are empty for a type
	// whose credentials are not JWTs.
	token []string
	fetch bool
	// required lists the keys an entry must set.
	required []requirement
	// fields returns the type's own fields, bound to s.
	fields func(s *T) []spec
	// check, if set, runs after decoding, for rules that span fields.
	check func(s *T, p *ProviderConfig, d *decoder)

	// A JWT type sets newToken: it constructs the authenticator from the
	// settings and the shared options, which already hold the entry's
	// name, logger and clock. It returns the key of the field an error is
	// about ("" for the entry as a whole).
	newToken func(s *T, t providers.TokenOptions, f providers.FetchOptions) (tokenAuthenticator, string, error)
	// Any other type sets build.
	build func(ctx context.Context, s *T, p *ProviderConfig, o buildOptions) (*provider, string, error)
}

// tokenAuthenticator is what a JWT type constructs.
type tokenAuthenticator interface {
	authgate.Authenticator
	// Prefetch warms the keys (see providers.TokenAuthenticator.Prefetch).
	Prefetch(ctx context.Context) error
}

// requirement is a key an entry must set, or a choice of keys one of which
// it must set; the message names the first.
type requirement struct {
	keys []string
	why  string
}

// need returns the requirement that one of keys is set.
func need(why string, keys ...string) requirement { return requirement{keys: keys, why: why} }

// entry returns the registry entry of k.
func (k kind[T]) entry() providerType {
	t := providerType{
		name:     k.name,
		token:    k.token,
		fetch:    k.fetch,
		required: k.required,
		settings: func() (any, []spec) {
			s := new(T)
			return s, k.fields(s)
		},
	}
	if k.check != nil {
		t.check = func(p *ProviderConfig, d *decoder) { k.check(settingsOf[T](p), p, d) }
	}
	if k.build != nil {
		t.build = func(ctx context.Context, p *ProviderConfig, o buildOptions) (*provider, string, error) {
			return k.build(ctx, settingsOf[T](p), p, o)
		}
		return t
	}
	t.build = func(_ context.Context, p *ProviderConfig, o buildOptions) (*provider, string, error) {
		opts := p.Token
		opts.Name, opts.Logger, opts.Now = p.Name, o.logger, o.now
		fetch := p.Fetch
		fetch.Observer = o.observer
		a, field, err := k.newToken(settingsOf[T](p), opts, fetch)
		if err != nil {
			return nil, field, err
		}
		out := &provider{cfg: p, auth: a}
		if k.fetch {
			out.prefetch = a.Prefetch
			if r, ok := a.(interface{ Ready() error }); ok {
				out.ready = r.Ready
			}
		}
		return out, "", nil
	}
	return t
}

// specs gives p new settings of the type and returns every field the type
// takes, bound to p: its own, then the shared ones.
func (t *providerType) specs(p *ProviderConfig) []spec {
	s, own := t.settings()
	p.settings = s
	out := own
	for _, sp := range tokenFields(&p.Token) {
		if slices.Contains(t.token, sp.key) {
			out = append(out, sp)
		}
	}
	if t.fetch {
		out = append(out, fetchFields(&p.Fetch)...)
	}
	return out
}

// lookupType returns the type named name, or nil.
func lookupType(name string) *providerType {
	for i := range registry {
		if registry[i].name == name {
			return &registry[i]
		}
	}
	return nil
}

// typeNames returns the names of the types.
func typeNames() []string {
	out := make([]string, len(registry))
	for i, t := range registry {
		out[i] = t.name
	}
	return out
}
