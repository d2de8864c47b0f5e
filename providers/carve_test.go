package providers

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/authgate/authgate"
)

// TestCarveFields: the principal's scopes split exactly as strings.Fields
// splits them, ASCII or not.
func TestCarveFields(t *testing.T) {
	for _, s := range []string{
		"", " ", "openid", "openid profile email", "  a\tb\nc\vd\fe\rf  ", "a  b", "é ü", "a\u00a0b c", "a\u2003b", "x\x85y",
	} {
		t.Run(s, func(t *testing.T) {
			got, rest := carveFields(s, make([]string, 0, 2))
			if want := strings.Fields(s); !slices.Equal(got, want) || got == nil {
				t.Errorf("carveFields(%q) = %q, want %q (non-nil)", s, got, want)
			}
			if cap(got) != len(got) || len(rest) != 0 {
				t.Errorf("carveFields(%q): list cap %d for len %d, rest len %d", s, cap(got), len(got), len(rest))
			}
		})
	}
}

// TestMappingPrincipalLists: the lists of a principal share one backing
// array, each capped at its length, so appending to one never changes
// another; and they hold what StringList and strings.Fields give.
func TestMappingPrincipalLists(t *testing.T) {
	tests := []struct {
		name                      string
		claims                    map[string]any
		roles, scopes, permission []string
	}{
		{name: "none", claims: map[string]any{}},
		{name: "all", claims: map[string]any{"roles": []any{"r1", "r2"}, "scope": "s1 s2", "permissions": []any{"p1", 7.0, "p2"}},
			roles: []string{"r1", "r2"}, scopes: []string{"s1", "s2"}, permission: []string{"p1", "p2"}},
		{name: "scp array", claims: map[string]any{"scp": []any{"a", "b"}}, scopes: []string{"a", "b"}},
		{name: "scp string", claims: map[string]any{"scp": "a b"}, scopes: []string{"a", "b"}},
		{name: "empty scope", claims: map[string]any{"scope": ""}, scopes: []string{}},
		{name: "beyond the inline lists", claims: map[string]any{"roles": []any{"1", "2", "3", "4", "5", "6"}, "scope": "a b c d e", "permissions": []any{"x"}},
			roles: []string{"1", "2", "3", "4", "5", "6"}, scopes: []string{"a", "b", "c", "d", "e"}, permission: []string{"x"}},
		{name: "roles not an array", claims: map[string]any{"roles": "admin", "permissions": []any{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Mapping{}.Principal(&Token{Claims: tt.claims})
			for _, l := range []struct {
				name      string
				got, want []string
			}{{"Roles", p.Roles, tt.roles}, {"Scopes", p.Scopes, tt.scopes}, {"Permissions", p.Permissions, tt.permission}} {
				if !reflect.DeepEqual(l.got, l.want) {
					t.Errorf("Principal().%s = %#v, want %#v", l.name, l.got, l.want)
				}
				if cap(l.got) != len(l.got) {
					t.Errorf("Principal().%s has cap %d for len %d", l.name, cap(l.got), len(l.got))
				}
			}
			perms := slices.Clone(p.Permissions)
			scopes := slices.Clone(p.Scopes)
			p.Roles = append(p.Roles, "appended")
			p.Scopes = append(p.Scopes, "appended")
			if !slices.Equal(p.Permissions, perms) || !slices.Equal(p.Scopes[:len(scopes)], scopes) {
				t.Errorf("appending to Roles and Scopes changed Scopes %q or Permissions %q", p.Scopes, p.Permissions)
			}
		})
	}
}

// TestAudienceStorage: "aud" is read into the token's own storage when it
// fits, always capped at its length, and the same list either way.
func TestAudienceStorage(t *testing.T) {
	tests := []struct {
		name string
		aud  any
		want []string
	}{
		{name: "string", aud: "a", want: []string{"a"}},
		{name: "two", aud: []any{"a", "b"}, want: []string{"a", "b"}},
		{name: "three", aud: []any{"a", "b", "c"}, want: []string{"a", "b", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tok Token
			got, err := audience(map[string]any{"aud": tt.aud}, tok.audience[:0])
			if err != nil || !slices.Equal(got, tt.want) || cap(got) != len(got) {
				t.Fatalf("audience(%v) = %q (cap %d), %v; want %q", tt.aud, got, cap(got), err, tt.want)
			}
		})
	}
}

// TestCopyPrincipalArrays: the arrays copyPrincipal copies into the
// principal's allocation are the caller's and capped, so writing to or
// appending to one changes neither the template nor another array; and a
// copy of a principal of the usual shape costs five allocations (the
// principal with its lists and first arrays, and two per map).
func TestCopyPrincipalArrays(t *testing.T) {
	template := &authgate.Principal{
		Audience: []string{"api", "other"},
		Roles:    []string{"a"},
		Claims: map[string]any{
			"aud": []any{"api", "other"}, "roles": []any{"a"}, "sub": "u",
			"nested": map[string]any{"x": []any{[]any{"deep"}, 1.0}},
			"big":    []any{"1", "2", "3", "4", "5", "6", "7", "8", "9"},
		},
		Header: map[string]any{"alg": "RS256", "kid": "k1"},
	}
	want := cloneObject(template.Claims)
	p := copyPrincipal(template)
	if !reflect.DeepEqual(p.Claims, template.Claims) || !reflect.DeepEqual(p.Header, template.Header) {
		t.Fatalf("copyPrincipal = %v %v, want %v %v", p.Claims, p.Header, template.Claims, template.Header)
	}
	aud := p.Claims["aud"].([]any)
	roles := p.Claims["roles"].([]any)
	if cap(aud) != len(aud) || cap(roles) != len(roles) {
		t.Errorf("copied arrays have cap %d and %d for len %d and %d", cap(aud), cap(roles), len(aud), len(roles))
	}
	aud[0] = "evil"
	p.Claims["aud"] = append(aud, "more")
	roles[0] = "root"
	p.Claims["nested"].(map[string]any)["x"].([]any)[0].([]any)[0] = "z"
	p.Claims["big"].([]any)[0] = "0"
	if !reflect.DeepEqual(template.Claims, want) {
		t.Errorf("writing to the copy changed the template: %v", template.Claims)
	}
	if q := copyPrincipal(template); !reflect.DeepEqual(q.Claims, want) {
		t.Errorf("a later copy = %v, want %v", q.Claims, want)
	}
	usual := &authgate.Principal{Audience: []string{"api", "other"}, Scopes: []string{"openid", "email"},
		Claims: map[string]any{"aud": []any{"api", "other"}, "sub": "u", "exp": 1.0, "scope": "openid email"},
		Header: map[string]any{"alg": "HS256", "kid": "k1", "typ": "JWT"}}
	if n := testing.AllocsPerRun(100, func() { copyPrincipal(usual) }); n > 5 {
		t.Errorf("copyPrincipal of a usual principal: %v allocations, want at most 5", n)
	}
}
