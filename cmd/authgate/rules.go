package main

import (
	"errors"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/adapter"
)

// rule is a compiled entry of "rules".
type rule struct {
	route     string // the configured path, for logs
	base      string // path without its trailing slash; "" matches everything
	methods   []string
	anonymous bool
	guards    []*adapter.Guard
}

// compileRules builds the rules' guards.
func compileRules(cfg *Config) ([]*rule, error) {
	out := make([]*rule, 0, len(cfg.Rules))
	var errs []*FieldError
	for _, rc := range cfg.Rules {
		r := &rule{
			route:     rc.Path,
			base:      strings.TrimSuffix(rc.Path, "/"),
			methods:   rc.Methods,
			anonymous: rc.Anonymous,
		}
		for _, g := range []struct {
			kind   adapter.GuardKind
			values []string
		}{{adapter.AllRoles, rc.Roles}, {adapter.AllScopes, rc.Scopes}, {adapter.AllPermissions, rc.Permissions}} {
			if g.values == nil {
				continue
			}
			guard, err := adapter.NewGuard("authgate", g.kind, g.values)
			if err != nil {
				errs = append(errs, &FieldError{File: configFile(cfg), Line: rc.Line, Reason: err.Error()})
				continue
			}
			r.guards = append(r.guards, guard)
		}
		out = append(out, r)
	}
	if len(errs) > 0 {
		return nil, &ConfigError{Errors: errs}
	}
	return out, nil
}

// matches reports whether the rule applies to a request. A rule path
// matches itself and everything below it, on segment boundaries: /admin/
// and /admin match /admin, /admin/ and /admin/x, never /administrator.
func (r *rule) matches(method, p string) bool {
	if r.methods != nil && !slices.Contains(r.methods, method) {
		return false
	}
	return r.base == "" || p == r.base || strings.HasPrefix(p, r.base) && p[len(r.base)] == '/'
}

// check applies the rule's requirements to an authenticated principal: nil,
// or an ErrForbidden error (403 insufficient_scope).
func (r *rule) check(p *authgate.Principal) error {
	for _, g := range r.guards {
		if err := g.Check(p); err != nil {
			return err
		}
	}
	return nil
}

// matchRule returns the first rule that applies, or nil.
func matchRule(rules []*rule, method, p string) *rule {
	for _, r := range rules {
		if r.matches(method, p) {
			return r
		}
	}
	return nil
}

var errBadURI = errors.New("original request URI is not an absolute path")

// rulePath returns the path rules are matched against: the original URI's
// path, percent-decoded, with dot segments and repeated slashes removed (a
// trailing slash is kept), so /public/../admin/ is matched as /admin/.
func rulePath(uri string) (string, error) {
	if uri == "" || uri[0] != '/' {
		return "", errBadURI
	}
	u, err := url.ParseRequestURI(uri)
	if err != nil || u.Path == "" || u.Path[0] != '/' {
		return "", errBadURI
	}
	p := u.Path
	// Backends disagree on what a fragment, a backslash or a path parameter
	// (";jsessionid=…", "..;") means; a URI a rule could be read around is
	// refused rather than guessed at.
	if strings.ContainsAny(uri, "#\\;") || strings.ContainsAny(p, "\\;") ||
		strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", errBadURI
	}
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	return clean, nil
}
