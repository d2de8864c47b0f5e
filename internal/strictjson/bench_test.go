package strictjson

import "testing"

// BenchmarkParseObject decodes the claim set and header of the access
// token static/bench_test.go verifies.
//
//	go test -run '^$' -bench ParseObject -benchmem ./internal/strictjson/
func BenchmarkParseObject(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"claims", `{"aud":["https://api.test","https://issuer.test/userinfo"],"azp":"VvQ8kZ3m1y2xJ4pL","exp":1767225900,"iat":1767225599,"iss":"https://issuer.test/","jti":"6c0e7a1d-6a5f-4a0b-9a41-1f3b2f3c4d5e","scope":"openid profile email read:articles write:articles","sub":"auth0|5f7c8ec7c33c6c004bbafe82"}`},
		{"header", `{"alg":"HS256","kid":"k1","typ":"JWT"}`},
	} {
		data := []byte(bc.in)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseObject(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
