// Command authgate serves authgate's providers as a forward-auth server and
// manages what they need.
//
//	authgate serve   --config FILE                  forward-auth for nginx, Traefik, Caddy, Envoy
//	authgate keygen  --alg ALG --out DIR            key pair as PEM plus a JWKS
//	authgate token   --key FILE --iss … --aud …     mint a development token
//	authgate inspect --config FILE [TOKEN]          decode a token and say what the config makes of it
//	authgate apikey  create|list|revoke --config FILE
//	authgate deny    jti|subject|key ID --config FILE  deny-list entry in Redis
//	authgate version                                module version and VCS revision
//
// One YAML file configures the listen address, the realm, the providers
// (static, oidc, auth0, keycloak, firebase, apikey), their chain and the
// access rules. Secrets come from the environment, never from the file.
// Exit codes: 0 success, 1 runtime failure (or a token inspect rejects), 2
// usage or configuration error. Run "authgate COMMAND --help" for details.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/authgate/authgate/internal/gcpace"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run runs the command line args and returns the exit code. SIGTERM and
// SIGINT cancel what it runs (serve shuts down gracefully); SIGHUP makes
// serve reload its configuration.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(args) > 0 && args[0] == "serve" {
		defer gcpace.ForServer()()
	}
	return runEnv(&env{ctx: ctx, stdin: os.Stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv, hangup: notifyHangup}, args)
}
