package entra

import "github.com/authgate/authgate"

// IsAppOnly reports whether p was verified from an app-only token (client
// credentials: an application calling as itself, with no user). It reads
// the "idtyp" claim when the token carries it ("app" or "user"; add it as
// an optional claim of the API's registration to be certain), and
// otherwise what Entra documents of app-only tokens: no "scp" (delegated
// scopes) and "sub" equal to "oid" (the service principal). Ask it of
// principals of this package only.
func IsAppOnly(p *authgate.Principal) bool {
	if p == nil {
		return false
	}
	if typ, ok := p.Claims.GetString("idtyp"); ok {
		return typ == "app"
	}
	scp := p.Claims.Has("scp")
	oid := ObjectID(p)
	return !scp && oid != "" && p.Subject == oid
}

// ObjectID returns the "oid" of p's token: the user's or service
// principal's immutable ID within its tenant (Principal.Tenant). Key
// application data by tenant and object ID, never by name or e-mail.
// It is empty when the token has none.
func ObjectID(p *authgate.Principal) string {
	if p == nil {
		return ""
	}
	oid, _ := p.Claims.GetString("oid")
	return oid
}

// ClientID returns the application (client) ID of the client that
// obtained p's token: "azp" of v2.0 tokens, "appid" of v1.0 ones. Decide
// on it for app-only tokens only (IsAppOnly): a delegated token names the
// client the user signed in to, not necessarily the caller.
func ClientID(p *authgate.Principal) string {
	if p == nil {
		return ""
	}
	if id, ok := p.Claims.GetString("azp"); ok {
		return id
	}
	id, _ := p.Claims.GetString("appid")
	return id
}
