package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// env is what a subcommand runs with; tests supply their own.
type env struct {
	ctx            context.Context
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// ready, if set, is called by serve with the address it listens on.
	ready func(addr string)
	// metricsReady, if set, is called by serve with the address its
	// metrics listener listens on, when the configuration has one.
	metricsReady func(addr string)
	// extAuthzReady, if set, is called by serve with the address its
	// ext_authz gRPC listener listens on.
	extAuthzReady func(addr string)
	// hangup, if set, is called by serve to receive reload requests
	// (SIGHUP); stop ends them.
	hangup func() (reload <-chan struct{}, stop func())
}

const usage = `usage: authgate COMMAND [flags]

Commands:
  serve     serve the configured providers as a forward-auth server
  keygen    generate a key pair (private PEM, public PEM, JWKS)
  token     mint a development token
  inspect   decode a token and tell what the configuration makes of it
  apikey    create, list or revoke API keys in a configured store
  deny      deny a token (jti), a subject or an API key on every replica (Redis)
  version   print the module version and VCS revision (also --version)

Run "authgate COMMAND --help" for a command's flags.
Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error.
`

var commands = map[string]func(*env, []string) int{
	"serve":   cmdServe,
	"keygen":  cmdKeygen,
	"token":   cmdToken,
	"inspect": cmdInspect,
	"apikey":  cmdAPIKey,
	"deny":    cmdDeny,
	"version": cmdVersion,
}

// runEnv dispatches args to a subcommand.
func runEnv(e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(e.stdout, usage)
		return exitOK
	case "-version", "--version":
		return cmdVersion(e, args[1:])
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "authgate: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	return cmd(e, args[1:])
}

// newFlagSet returns a flag set whose usage starts with text.
func newFlagSet(name, text string) *flag.FlagSet {
	fs := flag.NewFlagSet("authgate "+name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), text)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, flags and positional arguments in any order ("--"
// ends the flags), and checks the number of positional arguments. When ok
// is false the caller returns code: 0 after --help (usage on stdout), 2
// after a usage error (message and usage on stderr).
func parseFlags(e *env, fs *flag.FlagSet, args []string, minPos, maxPos int) (pos []string, code int, ok bool) {
	fs.SetOutput(io.Discard)
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(e.stdout)
			fs.Usage()
			return nil, exitOK, false
		}
		if err != nil {
			code, _ := usageError(e, fs, err.Error())
			return nil, code, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	switch {
	case len(pos) < minPos:
		return nil, usagef(e, fs, "missing argument"), false
	case len(pos) > maxPos:
		return nil, usagef(e, fs, "too many arguments (%d, at most %d)", len(pos), maxPos), false
	}
	return pos, exitOK, true
}

func usageError(e *env, fs *flag.FlagSet, msg string) (int, bool) {
	fmt.Fprintf(e.stderr, "%s: %s\n\n", fs.Name(), msg)
	fs.SetOutput(e.stderr)
	fs.Usage()
	return exitUsage, false
}

// usagef reports a usage error found after parsing.
func usagef(e *env, fs *flag.FlagSet, format string, args ...any) int {
	code, _ := usageError(e, fs, fmt.Sprintf(format, args...))
	return code
}

// stringsFlag is a repeatable string flag.
type stringsFlag []string

func (s *stringsFlag) String() string { return strings.Join(*s, ",") }

func (s *stringsFlag) Set(v string) error {
	*s = append(*s, v)
	return nil
}

func baseName(path string) string { return filepath.Base(path) }

// usageErr marks an error in what the user asked for, found after the
// flags were parsed (exit 2).
type usageErr struct{ error }

func (e *usageErr) Unwrap() error { return e.error }
