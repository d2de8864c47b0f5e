package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/authgate/authgate/redis/denylist"
)

// denyTimeout bounds the deny command's one write.
const denyTimeout = 10 * time.Second

const denyUsage = `usage: authgate deny jti|subject|key --config FILE [--remove] …

  jti ID           --until TIME | --ttl D
                   refuse the token whose jti is ID; until its expiry is enough
  subject SUBJECT  --provider NAME --ttl D [--before TIME]
                   refuse every credential of SUBJECT from provider NAME issued
                   before TIME (default now), and any without an issue time;
                   --ttl is the longest lifetime of those credentials
  key ID           --until TIME | --ttl D
                   refuse the API key with this ID on every replica at once

The entry is written to the deny-list of the file's redis.deny_list and
reaches every serve replica within milliseconds; it expires by itself.
--remove takes a mistaken entry out at once (no --ttl or --until then).
Times are RFC 3339.
`

func cmdDeny(e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, denyUsage)
		return exitUsage
	}
	switch args[0] {
	case "jti", "subject", "key":
		return denyEntry(e, args[0], args[1:])
	case "-h", "-help", "--help", "help":
		fmt.Fprint(e.stdout, denyUsage)
		return exitOK
	}
	fmt.Fprintf(e.stderr, "authgate deny: unknown kind %q\n\n%s", args[0], denyUsage)
	return exitUsage
}

func denyEntry(e *env, kind string, args []string) int {
	fs := newFlagSet("deny "+kind, denyUsage+"\nFlags:\n")
	config := fs.String("config", "authgate.yaml", "configuration `file`")
	ttl := fs.Duration("ttl", 0, "how long the entry lasts")
	until := fs.String("until", "", "when the entry ends, as RFC 3339 `time`")
	provider := fs.String("provider", "", "provider `name` of the subject (subject only)")
	before := fs.String("before", "", "refuse credentials issued before this RFC 3339 `time` (subject only; default now)")
	remove := fs.Bool("remove", false, "remove the entry instead of adding it")
	pos, code, ok := parseFlags(e, fs, args, 1, 1)
	if !ok {
		return code
	}
	now := time.Now()
	var end time.Time
	switch {
	case *remove && (*ttl != 0 || *until != "" || *before != ""):
		return usagef(e, fs, "--remove takes no --ttl, --until or --before")
	case *remove:
	case *ttl != 0 && *until != "":
		return usagef(e, fs, "give --ttl or --until, not both")
	case *ttl < 0:
		return usagef(e, fs, "--ttl must be positive")
	case *ttl > 0:
		end = now.Add(*ttl)
	case *until != "":
		t, err := time.Parse(time.RFC3339, *until)
		if err != nil {
			return usagef(e, fs, "--until: want an RFC 3339 time such as 2026-01-02T15:04:05Z")
		}
		end = t
	case kind == "subject":
		return usagef(e, fs, "--ttl is required: the longest lifetime of the subject's credentials")
	default:
		return usagef(e, fs, "--ttl or --until is required")
	}
	issuedBefore := now
	if kind == "subject" {
		if *provider == "" {
			return usagef(e, fs, "--provider is required")
		}
		if *before != "" {
			t, err := time.Parse(time.RFC3339, *before)
			if err != nil {
				return usagef(e, fs, "--before: want an RFC 3339 time such as 2026-01-02T15:04:05Z")
			}
			issuedBefore = t
		}
	} else if *provider != "" || *before != "" {
		return usagef(e, fs, "--provider and --before are for subject entries")
	}
	cfg, err := LoadConfig(*config, e.getenv)
	if err != nil {
		return e.fail("deny", err)
	}
	if kind == "subject" && !slices.ContainsFunc(cfg.Providers, func(p *ProviderConfig) bool { return p.Name == *provider }) {
		return e.fail("deny", &usageErr{fmt.Errorf("no provider %q in %s", *provider, baseName(*config))})
	}
	l, closeList, err := openDenyList(cfg)
	if err != nil {
		return e.fail("deny", &usageErr{fmt.Errorf("%s: %w", baseName(*config), err)})
	}
	defer closeList()
	ctx, cancel := context.WithTimeout(e.ctx, denyTimeout)
	defer cancel()
	switch {
	case *remove && kind == "jti":
		err = l.RemoveToken(ctx, pos[0])
	case *remove && kind == "key":
		err = l.RemoveKey(ctx, pos[0])
	case *remove:
		err = l.RemoveSubject(ctx, *provider, pos[0])
	}
	if *remove {
		switch {
		case errors.Is(err, denylist.ErrInvalidEntry):
			return e.fail("deny", &usageErr{err})
		case err != nil:
			return e.fail("deny", err)
		}
		fmt.Fprintf(e.stdout, "removed the %s entry\n", kind)
		return exitOK
	}
	switch kind {
	case "jti":
		err = l.DenyToken(ctx, pos[0], end)
	case "key":
		err = l.DenyKey(ctx, pos[0], end)
	case "subject":
		err = l.DenySubject(ctx, *provider, pos[0], issuedBefore, end)
	}
	switch {
	case errors.Is(err, denylist.ErrInvalidEntry):
		return e.fail("deny", &usageErr{err})
	case err != nil:
		return e.fail("deny", err)
	case !end.After(now):
		fmt.Fprintf(e.stdout, "nothing to deny: %s is past, the credential has expired on its own\n", end.UTC().Format(time.RFC3339))
		return exitOK
	}
	what := map[string]string{"jti": "token", "key": "API key", "subject": "subject's credentials issued before " + issuedBefore.UTC().Format(time.RFC3339)}[kind]
	fmt.Fprintf(e.stdout, "denied %s until %s\n", what, end.UTC().Format(time.RFC3339))
	return exitOK
}
