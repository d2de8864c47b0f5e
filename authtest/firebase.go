package authtest

import (
	"net/http"
	"testing"
	"time"

	"github.com/authgate/authgate/providers"
)

// Google's certificate paths, as in Firebase's constant URLs.
const (
	firebaseCertsPath        = "/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com"
	firebaseSessionCertsPath = "/identitytoolkit/v3/relyingparty/publicKeys"
)

// FirebaseProject is a Firebase-shaped certificate server for one project
// and the minting of its ID tokens and session cookies. Make one with
// Firebase. Its methods are safe for concurrent use.
type FirebaseProject struct {
	server
	cfg       config
	projectID string
	uid       string
	idKeys    *keyRing
	sesKeys   *keyRing
}

// Firebase starts a server in the shape of Google's certificate endpoints
// for projectID, over https (httptest.NewTLSServer, since Firebase's URLs
// are https: pass Client() as firebase.Config.HTTPClient), and closes it
// with t.Cleanup. It serves
//
//	CertsURL()         ID-token certificates: {kid: PEM X.509 certificate}
//	SessionCertsURL()  session-cookie certificates, other keys, same shape
//
// with Google's "Cache-Control: public, max-age=21600, must-revalidate,
// no-transform" (WithCacheControl). IDToken mints RS256 ID tokens as
// Firebase Auth does; SessionCookie session cookies. Options: WithNow,
// WithLifetime, WithTenant, WithCacheControl. t may be nil as for
// NewIssuer.
func Firebase(t testing.TB, projectID string, opts ...Option) *FirebaseProject {
	if t != nil {
		t.Helper()
	}
	cfg := newConfig(opts)
	f := &FirebaseProject{cfg: cfg, projectID: projectID, uid: "Rz3LQ0nW8kV2xT5yB7cD9eF1gH2i"}
	mux := http.NewServeMux()
	f.init(mux, true)
	var err error
	if f.idKeys, err = newKeyRing("securetoken.system.gserviceaccount.com", cfg.now, []string{providers.RS256}); err != nil {
		fatal(t, err)
	}
	if f.sesKeys, err = newKeyRing("identitytoolkit.system.gserviceaccount.com", cfg.now, []string{providers.RS256}); err != nil {
		fatal(t, err)
	}
	cache := cfg.cache("public, max-age=21600, must-revalidate, no-transform")
	for path, ring := range map[string]*keyRing{firebaseCertsPath: f.idKeys, firebaseSessionCertsPath: f.sesKeys} {
		f.handle(mux, "GET "+path, func(w http.ResponseWriter, _ *http.Request) {
			certs := map[string]string{}
			for _, k := range ring.published() {
				certs[k.kid] = k.certPEM()
			}
			writeJSON(w, certs, cache)
		})
	}
	f.begin(t)
	return f
}

// ProjectID returns the project id: the tokens' "aud".
func (f *FirebaseProject) ProjectID() string { return f.projectID }

// Subject returns the default uid ("sub" and "user_id") of minted tokens.
func (f *FirebaseProject) Subject() string { return f.uid }

// CertsURL returns the address of the ID-token certificates
// (firebase.Config.CertsURL).
func (f *FirebaseProject) CertsURL() string { return f.URL() + firebaseCertsPath }

// SessionCertsURL returns the address of the session-cookie certificates
// (firebase.Config.SessionCertsURL).
func (f *FirebaseProject) SessionCertsURL() string { return f.URL() + firebaseSessionCertsPath }

// CertsRequests returns how many requests CertsURL got, including those
// answered with an error by Fail.
func (f *FirebaseProject) CertsRequests() int { return f.requests("GET " + firebaseCertsPath) }

// SessionCertsRequests returns how many requests SessionCertsURL got.
func (f *FirebaseProject) SessionCertsRequests() int {
	return f.requests("GET " + firebaseSessionCertsPath)
}

// Rotate publishes a new ID-token key and a new session-cookie key and
// signs with them from now on; the previous keys stay published until
// Retire. It returns the new ID-token kid.
func (f *FirebaseProject) Rotate() string {
	f.sesKeys.rotate()
	return f.idKeys.rotate()
}

// Retire takes the key kid (of either map) out of the certificate maps;
// it reports whether the project has such a key.
func (f *FirebaseProject) Retire(kid string) bool {
	return f.idKeys.retire(kid) || f.sesKeys.retire(kid)
}

// IDToken mints a Firebase ID token as Firebase Auth does for an
// email/password user: header {"alg":"RS256","kid","typ":"JWT"}; claims
// "iss" https://securetoken.google.com/PROJECT, "aud" PROJECT, "sub" and
// "user_id" the uid (a "sub" override moves "user_id" with it),
// "auth_time", "iat", "exp" one hour later, "email", "email_verified", and
// "firebase" {"identities", "sign_in_provider":"password"} with "tenant"
// WithTenant. Custom claims go at the top level. claims override as for
// Issuer.Token.
func (f *FirebaseProject) IDToken(claims map[string]any) string {
	return f.IDTokenWithHeader(nil, claims)
}

// IDTokenWithHeader is IDToken with header overrides, for hostile cases
// (no kid, another alg), with the rules of Issuer.TokenWithHeader.
func (f *FirebaseProject) IDTokenWithHeader(header, claims map[string]any) string {
	kid, _ := header["kid"].(string)
	lifetime := time.Hour
	if f.cfg.lifetime > 0 {
		lifetime = f.cfg.lifetime
	}
	return mint(f.idKeys.find(kid), "JWT", header, f.claims("https://securetoken.google.com/", lifetime, claims), claims)
}

// SessionCookie mints a Firebase session cookie (what
// createSessionCookie returns): like an ID token, but issued by
// https://session.firebase.google.com/PROJECT, signed by the
// session-cookie keys, valid for 14 days (WithLifetime does not change
// it; override "exp").
func (f *FirebaseProject) SessionCookie(claims map[string]any) string {
	return mint(f.sesKeys.find(""), "JWT", nil, f.claims("https://session.firebase.google.com/", 14*24*time.Hour, claims), claims)
}

func (f *FirebaseProject) claims(issuerPrefix string, lifetime time.Duration, over map[string]any) map[string]any {
	iat, exp := times(f.cfg.now, lifetime, over)
	uid := f.uid
	if s, ok := over["sub"].(string); ok {
		uid = s
	}
	fb := map[string]any{
		"identities":       map[string]any{"email": []string{"alice@example.test"}},
		"sign_in_provider": "password",
	}
	if f.cfg.tenant != "" {
		fb["tenant"] = f.cfg.tenant
	}
	return map[string]any{
		"iss": issuerPrefix + f.projectID, "aud": f.projectID, "sub": uid, "user_id": uid,
		"auth_time": iat, "iat": iat, "exp": exp,
		"email": "alice@example.test", "email_verified": true, "firebase": fb,
	}
}
