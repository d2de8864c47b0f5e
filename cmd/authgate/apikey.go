package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/authgate/authgate/apikey"
)

const apikeyUsage = `usage: authgate apikey create|list|revoke --config FILE [--provider NAME] …

  create --subject SUB [--name N] [--role R]… [--scope S]… [--tenant T] [--ttl D | --expires TIME] [--id ID]
         prints the new key on stdout, once: it is stored hashed and cannot be shown again
  list   [--json]
         every key of the store, revoked and expired ones included (never the keys themselves)
  revoke ID

--provider names an apikey provider of the file; it may be left out when
the file has exactly one.
`

func cmdAPIKey(e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, apikeyUsage)
		return exitUsage
	}
	switch args[0] {
	case "create":
		return apikeyCreate(e, args[1:])
	case "list":
		return apikeyList(e, args[1:])
	case "revoke":
		return apikeyRevoke(e, args[1:])
	case "-h", "-help", "--help", "help":
		fmt.Fprint(e.stdout, apikeyUsage)
		return exitOK
	}
	fmt.Fprintf(e.stderr, "authgate apikey: unknown subcommand %q\n\n%s", args[0], apikeyUsage)
	return exitUsage
}

// apikeyFlags are the flags every apikey subcommand has.
type apikeyFlags struct {
	config, provider *string
}

func newAPIKeyFlagSet(sub, text string) (*flag.FlagSet, apikeyFlags) {
	fs := newFlagSet("apikey "+sub, text)
	return fs, apikeyFlags{
		config:   fs.String("config", "authgate.yaml", "configuration `file`"),
		provider: fs.String("provider", "", "apikey provider `name` (default: the only one)"),
	}
}

// open builds the chosen apikey provider, and only it.
func (f apikeyFlags) open(e *env) (*gateway, *provider, error) {
	cfg, err := LoadConfig(*f.config, e.getenv)
	if err != nil {
		return nil, nil, err
	}
	name := *f.provider
	var names []string
	for _, p := range cfg.Providers {
		if p.Type == "apikey" {
			names = append(names, p.Name)
		}
	}
	switch {
	case len(names) == 0:
		return nil, nil, &usageErr{fmt.Errorf("%s has no apikey provider", baseName(*f.config))}
	case name == "" && len(names) > 1:
		return nil, nil, &usageErr{fmt.Errorf("%s has several apikey providers (%s): choose one with --provider", baseName(*f.config), strings.Join(names, ", "))}
	case name == "":
		name = names[0]
	}
	found := false
	for _, p := range cfg.Providers {
		if p.Name == name {
			if p.Type != "apikey" {
				return nil, nil, &usageErr{fmt.Errorf("provider %q is of type %s, not apikey", name, p.Type)}
			}
			found = true
		}
	}
	if !found {
		return nil, nil, &usageErr{fmt.Errorf("no provider %q in %s", name, baseName(*f.config))}
	}
	g, err := build(e.ctx, cfg, buildOptions{only: []string{name}})
	if err != nil {
		return nil, nil, err
	}
	return g, g.byName[name], nil
}

func apikeyCreate(e *env, args []string) int {
	fs, common := newAPIKeyFlagSet("create", apikeyUsage+"\nFlags:\n")
	subject := fs.String("subject", "", "owner of the key: Principal.Subject (required)")
	name := fs.String("name", "", "label for people")
	tenant := fs.String("tenant", "", "tenant")
	id := fs.String("id", "", "key ID (default: random)")
	ttl := fs.Duration("ttl", 0, "lifetime (default: no expiry)")
	expires := fs.String("expires", "", "expiry as RFC 3339 `time`")
	var roles, scopes stringsFlag
	fs.Var(&roles, "role", "role (repeatable)")
	fs.Var(&scopes, "scope", "scope (repeatable)")
	if _, code, ok := parseFlags(e, fs, args, 0, 0); !ok {
		return code
	}
	if *subject == "" {
		return usagef(e, fs, "--subject is required")
	}
	var exp time.Time
	switch {
	case *ttl != 0 && *expires != "":
		return usagef(e, fs, "give --ttl or --expires, not both")
	case *ttl < 0:
		return usagef(e, fs, "--ttl must be positive")
	case *ttl > 0:
		exp = time.Now().Add(*ttl)
	case *expires != "":
		t, err := time.Parse(time.RFC3339, *expires)
		if err != nil {
			return usagef(e, fs, "--expires: want an RFC 3339 time such as 2030-01-02T15:04:05Z")
		}
		exp = t
	}
	g, p, err := common.open(e)
	if err != nil {
		return e.fail("apikey create", err)
	}
	defer g.Close()
	plaintext, k, err := p.keys.Manager().Issue(e.ctx, apikey.Key{
		ID: *id, Name: *name, Subject: *subject, Tenant: *tenant,
		Roles: roles, Scopes: scopes, ExpiresAt: exp,
	})
	if err != nil {
		if errors.Is(err, apikey.ErrInvalidKey) || errors.Is(err, apikey.ErrDuplicate) {
			err = &usageErr{err}
		}
		return e.fail("apikey create", err)
	}
	fmt.Fprintln(e.stdout, plaintext)
	expiry := "never expires"
	if !k.ExpiresAt.IsZero() {
		expiry = "expires " + k.ExpiresAt.Format(time.RFC3339)
	}
	fmt.Fprintf(e.stderr, "created key %s for %s in %s (%s); it is shown once, store it now\n", k.ID, k.Subject, p.cfg.Name, expiry)
	return exitOK
}

func apikeyList(e *env, args []string) int {
	fs, common := newAPIKeyFlagSet("list", apikeyUsage+"\nFlags:\n")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, code, ok := parseFlags(e, fs, args, 0, 0); !ok {
		return code
	}
	g, p, err := common.open(e)
	if err != nil {
		return e.fail("apikey list", err)
	}
	defer g.Close()
	keys, err := p.keys.Manager().List(e.ctx)
	if err != nil {
		return e.fail("apikey list", err)
	}
	if *asJSON {
		out := make([]keyView, 0, len(keys))
		for _, k := range keys {
			out = append(out, newKeyView(k))
		}
		data, _ := json.MarshalIndent(out, "", "  ")
		fmt.Fprintf(e.stdout, "%s\n", data)
		return exitOK
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSUBJECT\tTENANT\tROLES\tSCOPES\tCREATED\tEXPIRES\tREVOKED\tLAST USED")
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			cell(k.ID), cell(k.Name), cell(k.Subject), cell(k.Tenant),
			cell(strings.Join(k.Roles, ",")), cell(strings.Join(k.Scopes, ",")),
			when(k.CreatedAt), when(k.ExpiresAt), when(k.RevokedAt), when(k.LastUsedAt))
	}
	if err := tw.Flush(); err != nil {
		return e.fail("apikey list", err)
	}
	return exitOK
}

func apikeyRevoke(e *env, args []string) int {
	fs, common := newAPIKeyFlagSet("revoke", apikeyUsage+"\nFlags:\n")
	pos, code, ok := parseFlags(e, fs, args, 1, 1)
	if !ok {
		return code
	}
	g, p, err := common.open(e)
	if err != nil {
		return e.fail("apikey revoke", err)
	}
	defer g.Close()
	if err := p.keys.Manager().Revoke(e.ctx, pos[0]); err != nil {
		return e.fail("apikey revoke", err)
	}
	fmt.Fprintf(e.stdout, "revoked key %s\n", pos[0])
	return exitOK
}

// keyView is the JSON form of a listed key.
type keyView struct {
	ID         string     `json:"id"`
	Name       string     `json:"name,omitempty"`
	Subject    string     `json:"subject"`
	Tenant     string     `json:"tenant,omitempty"`
	Roles      []string   `json:"roles,omitempty"`
	Scopes     []string   `json:"scopes,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

func newKeyView(k apikey.Key) keyView {
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	return keyView{
		ID: k.ID, Name: k.Name, Subject: k.Subject, Tenant: k.Tenant, Roles: k.Roles, Scopes: k.Scopes,
		CreatedAt: k.CreatedAt, ExpiresAt: opt(k.ExpiresAt), RevokedAt: opt(k.RevokedAt), LastUsedAt: opt(k.LastUsedAt),
	}
}

// cell makes a value safe for one table cell.
func cell(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f {
			return -1
		}
		return r
	}, s)
	if s == "" {
		return "-"
	}
	return s
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
