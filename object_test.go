package authgate_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/authgate/authgate"
)

func claimsFixture() map[string]any {
	return map[string]any{
		"sub": "ada", "exp": 1.0, "ok": true, "none": nil,
		"roles":                     []any{"admin", []any{"nested"}},
		"realm_access":              map[string]any{"roles": []any{"a"}},
		"https://example.com/roles": []any{"x"},
	}
}

// TestObjectReadOnly: nothing a caller does with what an Object hands out
// changes the Object, whichever accessor it used.
func TestObjectReadOnly(t *testing.T) {
	t.Run("map", func(t *testing.T) { testObjectReadOnly(t, authgate.NewObject(claimsFixture())) })
	t.Run("lazy", func(t *testing.T) { testObjectReadOnly(t, lazyFixture()) })
}

// lazyFixture is claimsFixture held by a LazyObject, as JSON.
func lazyFixture() authgate.Object {
	raw, err := json.Marshal(claimsFixture())
	if err != nil {
		panic(err)
	}
	l := new(authgate.LazyObject)
	l.Init(string(raw), func(raw string) map[string]any {
		var m map[string]any
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			panic(err)
		}
		return m
	})
	return l.Object()
}

// TestObjectEqual: Equal compares members, however they are held.
func TestObjectEqual(t *testing.T) {
	m, lazy := authgate.NewObject(claimsFixture()), lazyFixture()
	if !m.Equal(lazy) || !lazy.Equal(m) || !lazy.Equal(lazy) || !(authgate.Object{}).Equal(authgate.NewObject(map[string]any{})) {
		t.Fatal("equal objects are not Equal")
	}
	other := claimsFixture()
	other["sub"] = "someone else"
	if m.Equal(authgate.NewObject(other)) || lazy.Equal(authgate.NewObject(other)) || lazy.Equal(authgate.Object{}) {
		t.Fatal("different objects are Equal")
	}
}

func testObjectReadOnly(t *testing.T, o authgate.Object) {
	want := claimsFixture()
	mutate := map[string]func(){
		"Get array": func() {
			v, _ := o.Get("roles")
			v.([]any)[0] = "root"
			v.([]any)[1].([]any)[0] = "root"
		},
		"Get object": func() {
			v, _ := o.Get("realm_access")
			v.(map[string]any)["roles"].([]any)[0] = "root"
			v.(map[string]any)["new"] = 1.0
		},
		"Lookup": func() {
			v, _ := o.Lookup("realm_access.roles")
			v.([]any)[0] = "root"
		},
		"Lookup URI name": func() {
			v, _ := o.Lookup("https://example.com/roles")
			v.([]any)[0] = "root"
		},
		"All": func() {
			for k, v := range o.All() {
				if l, ok := v.([]any); ok {
					l[0] = "root"
				}
				if m, ok := v.(map[string]any); ok {
					m[k] = "root"
				}
			}
		},
		"Map": func() {
			m := o.Map()
			m["sub"] = "root"
			delete(m, "exp")
			m["roles"].([]any)[0] = "root"
		},
	}
	for name, f := range mutate {
		t.Run(name, func(t *testing.T) {
			f()
			if got := o.Map(); !reflect.DeepEqual(got, want) {
				t.Fatalf("after writing to what %s returned, the object is %v, want %v", name, got, want)
			}
		})
	}
}

// TestNewObjectCopies: NewObject keeps a copy, so the caller's map stays
// the caller's; AdoptObject takes the map over as it is.
func TestNewObjectCopies(t *testing.T) {
	m := claimsFixture()
	o := authgate.NewObject(m)
	m["sub"] = "root"
	m["roles"].([]any)[0] = "root"
	if s, _ := o.GetString("sub"); s != "ada" {
		t.Errorf(`NewObject: sub = %q after the caller changed its map, want "ada"`, s)
	}
	if v, _ := o.Get("roles"); v.([]any)[0] != "admin" {
		t.Errorf("NewObject: roles = %v after the caller changed its map", v)
	}
	adopted := authgate.AdoptObject(m)
	if s, _ := adopted.GetString("sub"); s != "root" {
		t.Errorf("AdoptObject: sub = %q, want the map's own value", s)
	}
}

func TestObjectAccessors(t *testing.T) {
	o := authgate.NewObject(claimsFixture())
	if s, ok := o.GetString("sub"); !ok || s != "ada" {
		t.Errorf(`GetString("sub") = %q, %v`, s, ok)
	}
	if _, ok := o.GetString("exp"); ok {
		t.Error(`GetString("exp") of a number reports a string`)
	}
	if !o.Has("none") || o.Has("missing") {
		t.Errorf("Has: none %v, missing %v", o.Has("none"), o.Has("missing"))
	}
	if v, ok := o.Get("none"); !ok || v != nil {
		t.Errorf(`Get("none") = %v, %v; want nil, true`, v, ok)
	}
	if v, ok := o.Lookup("realm_access.roles"); !ok || !reflect.DeepEqual(v, []any{"a"}) {
		t.Errorf("Lookup(realm_access.roles) = %v, %v", v, ok)
	}
	if _, ok := o.Lookup("realm_access.missing"); ok {
		t.Error("Lookup of a missing nested member reports it present")
	}
	if o.Len() != 7 || o.IsZero() {
		t.Errorf("Len = %d, IsZero = %v", o.Len(), o.IsZero())
	}
	var zero authgate.Object
	if !zero.IsZero() || zero.Len() != 0 || zero.Map() != nil || zero.Has("sub") {
		t.Error("the zero Object is not empty")
	}
	n := 0
	for range o.All() {
		n++
		break
	}
	if n != 1 {
		t.Errorf("All did not stop when asked: %d", n)
	}
}

func TestObjectJSON(t *testing.T) {
	o := authgate.NewObject(claimsFixture())
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	var back authgate.Object
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Map(), claimsFixture()) {
		t.Errorf("round trip = %v", back.Map())
	}
	if b, _ := json.Marshal(authgate.Object{}); string(b) != "{}" {
		t.Errorf("zero Object encodes as %s, want {}", b)
	}
	if err := json.Unmarshal([]byte(`[1]`), &back); err == nil {
		t.Error("an array decoded into an Object")
	}
}

// A principal's claims are read-only: what they hand out is the caller's
// to change, and never reaches the principal or another request.
func ExampleObject() {
	p := &authgate.Principal{Claims: authgate.NewObject(map[string]any{
		"email":        "ada@example.com",
		"realm_access": map[string]any{"roles": []any{"editor"}},
	})}
	email, _ := p.Claims.GetString("email")
	roles, _ := p.Claim("realm_access.roles")
	roles.([]any)[0] = "admin" // a copy: the principal keeps "editor"
	again, _ := p.Claim("realm_access.roles")
	fmt.Println(email, again)
	// Output: ada@example.com [editor]
}

// A store of many objects, few of which are read, keeps their JSON and
// decodes each on its first read only.
func ExampleLazyObject() {
	decodes := 0
	decode := func(raw string) map[string]any {
		decodes++
		var m map[string]any
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			return nil
		}
		return m
	}
	var stored authgate.LazyObject
	stored.Init(`{"sub":"42","roles":["admin"]}`, decode)
	claims := stored.Object()
	fmt.Println("decoded before a read:", decodes)
	sub, _ := claims.GetString("sub")
	roles, _ := claims.Get("roles")
	fmt.Println(sub, roles, "decoded:", decodes)
	// Output:
	// decoded before a read: 0
	// 42 [admin] decoded: 1
}
