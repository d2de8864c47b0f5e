package bench

import (
	"context"
	"crypto"
	"errors"
	"fmt"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/jwx/v3/jwa"
	jwxjwt "github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/authgate/authgate/providers"
	"github.com/authgate/authgate/static"
)

// verify checks one compact token; nil means accepted.
type verify func(token string) error

// verifier builds one library's strict verifier for a fixture: iss, aud,
// exp (required where the library can require it) and the algorithm pinned
// to the fixture's, each as the library offers it.
type verifier struct {
	impl string
	// skip names algorithms the library cannot verify this way.
	skip map[string]string
	new  func(f fixture) (verify, error)
}

// verifiers are the implementations compared, in table order.
var verifiers = []verifier{
	{impl: "authgate", new: func(f fixture) (verify, error) { return newAuthgate(f, 0) }},
	{impl: "authgate_cached", new: func(f fixture) (verify, error) { return newAuthgate(f, 10000) }},
	{impl: "golangjwt", new: newGolangJWT},
	{impl: "keyfunc", new: newKeyfunc},
	{impl: "gooidc_static", new: newGoOIDC, skip: map[string]string{"HS256": "go-oidc verifies only asymmetric signatures"}},
	{impl: "jwx", new: newJWX},
}

// newAuthgate is static.Authenticator.Verify, the path users call, with a
// verified-token cache of cacheSize entries (0: none).
func newAuthgate(f fixture, cacheSize int) (verify, error) {
	var k providers.Key
	if s, ok := f.pub.([]byte); ok {
		k = providers.SecretKey(s)
	} else {
		k = providers.PublicKey(f.pub.(crypto.PublicKey))
	}
	k.ID = keyID
	a, err := static.New(static.Config{
		Keys:         []providers.Key{k},
		Issuer:       issuer,
		TokenOptions: providers.TokenOptions{Algorithms: []string{f.alg}, Audience: []string{audience}, CacheSize: cacheSize},
	})
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	return func(token string) error {
		_, err := a.Verify(ctx, token)
		return err
	}, nil
}

// newGolangJWT is golang-jwt v5 with a parser built once, registered claims
// and every validation option it has for these checks.
func newGolangJWT(f fixture) (verify, error) {
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{f.alg}),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	)
	key := f.pub
	kf := func(*jwt.Token) (any, error) { return key, nil }
	return func(token string) error {
		_, err := p.ParseWithClaims(token, &jwt.RegisteredClaims{}, kf)
		return err
	}, nil
}

// newKeyfunc is keyfunc v3 over an in-memory JWK set (the key bound to its
// alg and kid) feeding the same golang-jwt parser.
func newKeyfunc(f fixture) (verify, error) {
	jwk, err := jwkset.NewJWKFromKey(f.pub, jwkset.JWKOptions{
		Marshal:  jwkset.JWKMarshalOptions{Private: true},
		Metadata: jwkset.JWKMetadataOptions{ALG: jwkset.ALG(f.alg), KID: keyID},
	})
	if err != nil {
		return nil, err
	}
	store := jwkset.NewMemoryStorage()
	if err := store.KeyWrite(context.Background(), jwk); err != nil {
		return nil, err
	}
	kf, err := keyfunc.New(keyfunc.Options{Storage: store})
	if err != nil {
		return nil, err
	}
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{f.alg}),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	)
	return func(token string) error {
		_, err := p.ParseWithClaims(token, &jwt.RegisteredClaims{}, kf.Keyfunc)
		return err
	}, nil
}

// newGoOIDC is go-oidc v3's IDTokenVerifier over a StaticKeySet (ClientID
// is the audience; exp is always required).
func newGoOIDC(f fixture) (verify, error) {
	v := oidc.NewVerifier(issuer, &oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{f.pub}},
		&oidc.Config{ClientID: audience, SupportedSigningAlgs: []string{f.alg}})
	ctx := context.Background()
	return func(token string) error {
		_, err := v.Verify(ctx, token)
		return err
	}, nil
}

// newJWX is lestrrat-go/jwx v3's jwt.Parse with the raw Go key pinned to
// the algorithm, validation on, iss and aud checked and exp required.
func newJWX(f fixture) (verify, error) {
	var alg jwa.SignatureAlgorithm
	switch f.alg {
	case "RS256":
		alg = jwa.RS256()
	case "ES256":
		alg = jwa.ES256()
	case "HS256":
		alg = jwa.HS256()
	default:
		return nil, fmt.Errorf("jwx: no algorithm %s here", f.alg)
	}
	opts := []jwxjwt.ParseOption{
		jwxjwt.WithKey(alg, f.pub),
		jwxjwt.WithValidate(true),
		jwxjwt.WithIssuer(issuer),
		jwxjwt.WithAudience(audience),
		jwxjwt.WithRequiredClaim("exp"),
	}
	return func(token string) error {
		_, err := jwxjwt.ParseString(token, opts...)
		return err
	}, nil
}

var errFloor = errors.New("floor: signature refused")
