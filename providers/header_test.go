package providers_test

import (
	"errors"
	"testing"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
)

// TestTokenTypes pins RFC 7515 §4.1.9 for "typ": "application/" is implied
// only for a value without a "/", in the configured TokenTypes and in the
// received header alike; case does not matter.
func TestTokenTypes(t *testing.T) {
	tests := []struct {
		name    string
		types   []string // VerifierConfig.TokenTypes
		typ     string   // "" leaves typ out of the header
		wantErr error
	}{
		{name: "default, absent", typ: ""},
		{name: "default, JWT", typ: "JWT"},
		{name: "default, application/jwt", typ: "application/jwt"},
		{name: "default, Application/JWT", typ: "Application/JWT"},
		{name: "default, text/jwt", typ: "text/jwt", wantErr: authgate.ErrInvalidCredentials},
		{name: "default, application/application/jwt", typ: "application/application/jwt", wantErr: authgate.ErrInvalidCredentials},
		{name: "default, at+jwt", typ: "at+jwt", wantErr: authgate.ErrInvalidCredentials},
		{name: "at+jwt, received application/at+jwt", types: []string{"at+jwt"}, typ: "application/at+jwt"},
		{name: "application/at+jwt, received at+jwt", types: []string{"application/at+jwt"}, typ: "at+jwt"},
		{name: "at+jwt, received AT+JWT", types: []string{"at+jwt"}, typ: "AT+JWT"},
		{name: "at+jwt, received text/at+jwt", types: []string{"at+jwt"}, typ: "text/at+jwt", wantErr: authgate.ErrInvalidCredentials},
		{name: "at+jwt, absent", types: []string{"at+jwt"}, typ: "", wantErr: authgate.ErrInvalidCredentials},
		{name: "text/plain, received text/plain", types: []string{"text/plain"}, typ: "text/plain"},
		{name: "text/plain, received TEXT/Plain", types: []string{"TEXT/Plain"}, typ: "text/PLAIN"},
		{name: "text/plain, received application/text/plain", types: []string{"text/plain"}, typ: "application/text/plain", wantErr: authgate.ErrInvalidCredentials},
		{name: "application/text/plain, received text/plain", types: []string{"application/text/plain"}, typ: "text/plain", wantErr: authgate.ErrInvalidCredentials},
		{name: "application/text/plain, received itself", types: []string{"application/text/plain"}, typ: "Application/Text/Plain"},
		{name: "text/plain, received plain", types: []string{"text/plain"}, typ: "plain", wantErr: authgate.ErrInvalidCredentials},
		{name: "second of two", types: []string{"at+jwt", "text/plain"}, typ: "text/plain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := hmacVerifier(t, func(c *providers.VerifierConfig) { c.TokenTypes = tt.types })
			header := `{"alg":"HS256"}`
			if tt.typ != "" {
				header = `{"alg":"HS256","typ":"` + tt.typ + `"}`
			}
			tok, err := v.Verify(t.Context(), hmacToken(header, testClaims()))
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify(typ %q) with TokenTypes %q = %v, want accepted", tt.typ, tt.types, err)
				}
				if tok.Type != tt.typ {
					t.Errorf("Token.Type = %q, want %q as received", tok.Type, tt.typ)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify(typ %q) with TokenTypes %q = %v, want %v", tt.typ, tt.types, err, tt.wantErr)
			}
		})
	}
}

// TestUnsignedTokenTypes: InsecureVerifyUnsigned applies the same typ rule.
func TestUnsignedTokenTypes(t *testing.T) {
	tests := []struct {
		name    string
		types   []string
		typ     string
		wantErr error
	}{
		{name: "same type", types: []string{"text/plain"}, typ: "text/plain"},
		{name: "application/ implied", types: []string{"application/at+jwt"}, typ: "at+jwt"},
		{name: "application/ not implied", types: []string{"text/plain"}, typ: "application/text/plain", wantErr: authgate.ErrInvalidCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := hmacVerifier(t, func(c *providers.VerifierConfig) { c.TokenTypes = tt.types })
			_, err := v.InsecureVerifyUnsigned(unsignedToken(`{"alg":"none","typ":"`+tt.typ+`"}`, testClaims()))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("InsecureVerifyUnsigned(typ %q) with TokenTypes %q = %v, want %v", tt.typ, tt.types, err, tt.wantErr)
			}
		})
	}
}

// TestNestedContentType: a cty naming a JWT, with or without
// "application/", marks a nested token, which is refused; other content
// types are not JWTs.
func TestNestedContentType(t *testing.T) {
	tests := []struct {
		cty     string
		wantErr error
	}{
		{cty: "JWT", wantErr: authgate.ErrUnsupportedAlgorithm},
		{cty: "jwt", wantErr: authgate.ErrUnsupportedAlgorithm},
		{cty: "application/JWT", wantErr: authgate.ErrUnsupportedAlgorithm},
		{cty: "text/jwt"},
		{cty: "application/text/jwt"},
		{cty: "application/json"},
	}
	v := hmacVerifier(t, nil)
	for _, tt := range tests {
		t.Run(tt.cty, func(t *testing.T) {
			_, err := v.Verify(t.Context(), hmacToken(`{"alg":"HS256","cty":"`+tt.cty+`"}`, testClaims()))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Verify(cty %q) = %v, want %v", tt.cty, err, tt.wantErr)
			}
		})
	}
}
