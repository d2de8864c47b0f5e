package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/apikey"
	"github.com/authgate/authgate/google"
)

const inspectUsage = `usage: authgate inspect [--config FILE] [TOKEN | -]

Decode a token (or an API key) and, with --config, say which provider
claims it (by its unverified issuer, or an API key's prefix) and what the
configured chain decides, with the reason. The token is read from stdin
when it is "-" or absent. Header and claims are printed as sent, before
any verification: treat them as unverified.

Exit code: 0 when the chain accepts the credential (or without --config),
1 when it rejects it or cannot decide, 2 for usage and configuration errors.

Flags:
`

// maxInspectInput bounds a token read from stdin.
const maxInspectInput = 64 << 10

// inspectTimeout bounds the verification (remote providers fetch keys).
const inspectTimeout = 20 * time.Second

func cmdInspect(e *env, args []string) int {
	fs := newFlagSet("inspect", inspectUsage)
	config := fs.String("config", "", "configuration `file` (without it the token is only decoded)")
	pos, code, ok := parseFlags(e, fs, args, 0, 1)
	if !ok {
		return code
	}
	token := ""
	if len(pos) == 1 && pos[0] != "-" {
		token = pos[0]
	} else {
		data, err := io.ReadAll(io.LimitReader(e.stdin, maxInspectInput+1))
		if err != nil {
			return e.fail("inspect", err)
		}
		if len(data) > maxInspectInput {
			return usagef(e, fs, "input larger than %d bytes", maxInspectInput)
		}
		token = string(data)
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return usagef(e, fs, "no token given")
	}
	w := e.stdout
	iss, isJWT := decodeToken(w, token)

	if *config == "" {
		fmt.Fprintln(w, "verdict: not checked (no --config)")
		return exitOK
	}
	cfg, err := LoadConfig(*config, e.getenv)
	if err != nil {
		return e.fail("inspect", err)
	}
	g, err := build(e.ctx, cfg, buildOptions{})
	if err != nil {
		return e.fail("inspect", err)
	}
	defer g.Close()

	claimed := g.route(token, iss, isJWT)
	switch {
	case len(claimed) == 0 && isJWT:
		fmt.Fprintf(w, "provider: none (no provider is configured for issuer %s)\n", quoteUnverified(iss))
	case len(claimed) == 0:
		fmt.Fprintln(w, "provider: none (neither a JWT of a configured issuer nor an API key of a configured prefix)")
	default:
		for _, p := range claimed {
			inChain := "in the chain"
			if !slices.Contains(cfg.Chain, p.cfg.Name) {
				inChain = "NOT in the chain: serve never asks it"
			}
			fmt.Fprintf(w, "provider: %s (type %s, %s)\n", p.cfg.Name, p.cfg.Type, inChain)
		}
	}

	ctx, cancel := context.WithTimeout(e.ctx, inspectTimeout)
	defer cancel()
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
	if err != nil {
		return e.fail("inspect", err)
	}
	// An IAP assertion comes in IAP's own header, every other token as a
	// bearer token.
	if slices.ContainsFunc(claimed, func(p *provider) bool { return p.cfg.Type == googleIAPType.name }) {
		r.Header.Set(google.IAPHeader, token)
	} else {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	p, err := g.chain.Authenticate(r)
	if err != nil {
		printVerdict(w, err)
		return exitFailure
	}
	fmt.Fprintln(w, "verdict: accepted")
	out, _ := json.MarshalIndent(principalView(p), "", "  ")
	fmt.Fprintf(w, "principal:\n%s\n", out)
	return exitOK
}

// decodeToken prints a JWT's header and claims, unverified, and returns
// its "iss". A credential that is not a JWT is said to be one of the other
// kinds, and never printed.
func decodeToken(w io.Writer, token string) (iss string, isJWT bool) {
	parts := strings.Split(token, ".")
	if strings.Count(token, ".") != 2 || len(token) > maxInspectInput {
		if prefix, err := apikey.CheckFormat(token); err == nil {
			fmt.Fprintf(w, "credential: API key with prefix %q\n", prefix)
		} else {
			fmt.Fprintln(w, "credential: not a JWT (three base64url segments) nor a well-formed API key")
		}
		return "", false
	}
	fmt.Fprintln(w, "credential: JWT")
	header, herr := decodeSegment(parts[0])
	claims, cerr := decodeSegment(parts[1])
	printJSON(w, "header (unverified)", header, herr)
	printJSON(w, "claims (unverified)", claims, cerr)
	if cerr != nil {
		return "", true
	}
	var c map[string]any
	if json.Unmarshal(claims, &c) != nil {
		return "", true
	}
	iss, _ = c["iss"].(string)
	now := time.Now()
	for _, name := range []string{"iat", "nbf", "exp"} {
		if v, ok := c[name].(float64); ok {
			t := time.Unix(int64(v), 0)
			rel := "from now"
			d := t.Sub(now).Round(time.Second)
			if d < 0 {
				rel, d = "ago", -d
			}
			fmt.Fprintf(w, "%s: %s (%v %s)\n", name, t.UTC().Format(time.RFC3339), d, rel)
		}
	}
	return iss, true
}

func decodeSegment(seg string) ([]byte, error) {
	data, err := b64.Strict().DecodeString(seg)
	if err != nil {
		return nil, errors.New("not base64url")
	}
	if !json.Valid(data) {
		return nil, errors.New("not JSON")
	}
	return data, nil
}

func printJSON(w io.Writer, title string, data []byte, err error) {
	if err != nil {
		fmt.Fprintf(w, "%s: %v\n", title, err)
		return
	}
	var buf bytes.Buffer
	if json.Indent(&buf, data, "", "  ") != nil {
		fmt.Fprintf(w, "%s: not JSON\n", title)
		return
	}
	fmt.Fprintf(w, "%s:\n%s\n", title, buf.Bytes())
}

// quoteUnverified quotes an unverified value for the terminal.
func quoteUnverified(s string) string {
	if s == "" {
		return "(none)"
	}
	if len(s) > 256 {
		s = s[:256] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// route returns the providers that claim a credential: JWT providers
// whose issuer is the token's (or that claim every bearer token), API-key
// providers whose prefix the key has, introspection providers for a token
// that is not a JWT or a JWT of their issuer.
func (g *gateway) route(token, iss string, isJWT bool) []*provider {
	var out []*provider
	prefix, keyErr := apikey.CheckFormat(token)
	for _, p := range g.providers {
		if p.keys != nil {
			if s := settingsOf[apikeySettings](p.cfg); keyErr == nil && s != nil && prefix == s.Prefix {
				out = append(out, p)
			}
			continue
		}
		if s := settingsOf[introspectionSettings](p.cfg); s != nil {
			// Every bearer value that is not a JWT is introspected, and a
			// JWT only of the provider's issuer.
			if !isJWT || iss == s.Issuer {
				out = append(out, p)
			}
			continue
		}
		d, ok := p.auth.(authgate.Describer)
		if !ok || !isJWT {
			continue
		}
		issuers := d.Describe().Issuers
		if len(issuers) == 0 || slices.Contains(issuers, iss) {
			out = append(out, p)
		}
	}
	return out
}

// printVerdict explains a rejection: the HTTP status serve would answer,
// the bounded reason, the client-facing detail and the internal cause
// (which never holds token material).
func printVerdict(w io.Writer, err error) {
	fmt.Fprintln(w, "verdict: rejected")
	fmt.Fprintf(w, "status: %d\n", authgate.StatusCode(err))
	fmt.Fprintf(w, "reason: %s\n", authgate.Reason(err))
	fmt.Fprintf(w, "detail: %s\n", authgate.Detail(err))
	if code := authgate.ErrorCode(err); code != "" {
		fmt.Fprintf(w, "error: %s\n", code)
	}
	fmt.Fprintf(w, "cause: %v\n", err)
}

// principalView is the printed form of a principal.
func principalView(p *authgate.Principal) map[string]any {
	v := map[string]any{"provider": p.Provider, "method": p.Method, "subject": p.Subject}
	add := func(k string, val any, ok bool) {
		if ok {
			v[k] = val
		}
	}
	add("issuer", p.Issuer, p.Issuer != "")
	add("audience", p.Audience, len(p.Audience) > 0)
	add("email", p.Email, p.Email != "")
	add("name", p.Name, p.Name != "")
	add("tenant", p.Tenant, p.Tenant != "")
	add("roles", p.Roles, len(p.Roles) > 0)
	add("scopes", p.Scopes, len(p.Scopes) > 0)
	add("permissions", p.Permissions, len(p.Permissions) > 0)
	add("credential_id", p.CredentialID, p.CredentialID != "")
	add("expires_at", p.ExpiresAt.UTC().Format(time.RFC3339), !p.ExpiresAt.IsZero())
	return v
}
