package authtest

import (
	"encoding/json"
	"fmt"
	"time"
)

// mint builds a compact JWS: the default header {"alg": k.alg, "typ": typ,
// "kid": k.kid} with header applied, and the default claims with over
// applied, signed by k (empty signature for "alg":"none").
func mint(k *key, typ string, header, defaults, over map[string]any) string {
	h := map[string]any{"alg": k.alg, "typ": typ, "kid": k.kid}
	apply(h, header)
	apply(defaults, over)
	input := b64(mustJSON(h)) + "." + b64(mustJSON(defaults))
	if h["alg"] == "none" {
		return input + "."
	}
	return input + "." + b64(k.sign([]byte(input)))
}

// apply sets every member of over on m: nil deletes, a time.Time becomes
// a NumericDate.
func apply(m, over map[string]any) {
	for name, v := range over {
		switch tv := v.(type) {
		case nil:
			delete(m, name)
		case time.Time:
			m[name] = tv.Unix()
		default:
			m[name] = v
		}
	}
}

// times returns a token's iat and exp: iat is over's "iat" when it is a
// number or time, else now; exp is iat + lifetime (over's "exp", applied
// later, wins).
func times(now func() time.Time, lifetime time.Duration, over map[string]any) (iat, exp int64) {
	iat = now().Unix()
	if v, ok := unix(over["iat"]); ok {
		iat = v
	}
	return iat, iat + int64(lifetime/time.Second)
}

// unix converts a NumericDate given as a Go value.
func unix(v any) (int64, bool) {
	switch n := v.(type) {
	case time.Time:
		return n.Unix(), true
	case int:
		return int64(n), true
	case int64:
		return n, true
	case float64:
		return int64(n), true
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("authtest: cannot encode token member: %v", err))
	}
	return b
}
