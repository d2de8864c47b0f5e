module github.com/authgate/authgate/signin

go 1.26.0

require (
	github.com/authgate/authgate v0.0.0-00010101000000-000000000000
	github.com/coreos/go-oidc/v3 v3.21.0
	golang.org/x/oauth2 v0.36.0
)

require github.com/go-jose/go-jose/v4 v4.1.4 // indirect

replace github.com/authgate/authgate => ..
