package chain_test

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/chain"
)

// headerKey accepts one fixed key in a header: a stand-in for the apikey
// provider, to keep the example short.
type headerKey struct {
	name, header, key, subject string
}

func (k headerKey) Describe() authgate.Description {
	return authgate.Description{Name: k.name, Scheme: `ApiKey header="` + k.header + `"`}
}

func (k headerKey) Authenticate(r *http.Request) (*authgate.Principal, error) {
	v := r.Header.Get(k.header)
	if v == "" {
		return nil, authgate.NewError(k.name, authgate.ErrNoCredentials, nil)
	}
	if subtle.ConstantTimeCompare([]byte(v), []byte(k.key)) != 1 {
		return nil, authgate.NewError(k.name, authgate.ErrInvalidCredentials, nil)
	}
	return &authgate.Principal{Provider: k.name, Method: "apikey", Subject: k.subject}, nil
}

func Example() {
	a := chain.Any(
		headerKey{name: "partners", header: "X-Partner-Key", key: "partner-key-1", subject: "acme"},
		headerKey{name: "services", header: "X-API-Key", key: "service-key-1", subject: "billing"},
	)
	try := func(header, value string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if header != "" {
			r.Header.Set(header, value)
		}
		p, err := a.Authenticate(r)
		if err != nil {
			fmt.Println(authgate.StatusCode(err), authgate.Challenge(err, "api"))
			return
		}
		fmt.Println(p.Provider, p.Subject)
	}
	try("X-API-Key", "service-key-1")
	try("X-API-Key", "guess")
	try("", "")
	// Output:
	// services billing
	// 401 ApiKey realm="api", header="X-API-Key", error="invalid_token", error_description="Invalid token"
	// 401 ApiKey realm="api", header="X-Partner-Key", ApiKey realm="api", header="X-API-Key"
}

// described gives an authenticator a Description.
type described struct {
	authgate.Authenticator
	d authgate.Description
}

func (d described) Describe() authgate.Description { return d.d }

func ExampleNew() {
	deny := authgate.AuthenticatorFunc(func(*http.Request) (*authgate.Principal, error) {
		return nil, authgate.ErrNoCredentials
	})
	tenant := described{deny, authgate.Description{Name: "auth0", Scheme: "Bearer", Issuers: []string{"https://tenant.example/"}}}
	dev := described{deny, authgate.Description{Name: "static", Scheme: "Bearer"}}

	_, err := chain.New(dev, tenant)
	fmt.Println(err)
	_, err = chain.New(tenant, dev) // the catch-all goes last
	fmt.Println(err)
	// Output:
	// chain: static claims every bearer token, so auth0 after it never sees one; put the catch-all last
	// <nil>
}

func ExampleChain_Ordered() {
	partners := headerKey{name: "partners", header: "X-Partner-Key", key: "partner-key-1", subject: "acme"}
	services := headerKey{name: "services", header: "X-API-Key", key: "service-key-1", subject: "billing"}
	strict := chain.Any(partners, services)

	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("X-Partner-Key", "partner-key-1")
	r.Header.Set("X-API-Key", "service-key-1")

	_, err := strict.Authenticate(r)
	fmt.Println(authgate.StatusCode(err), errors.Is(err, chain.ErrAmbiguous))
	p, _ := chain.Any(partners, services).Ordered().Authenticate(r)
	fmt.Println(p.Subject)
	// Output:
	// 400 true
	// acme
}
