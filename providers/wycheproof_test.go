package providers

// Project Wycheproof JOSE vectors (SECURITY.md#attacks-signature and
// SECURITY.md#attacks-keys).
// The data is a verbatim copy of upstream files in testdata/wycheproof/
// (see its README.md for the commit, the licence and the file list), checked
// against testdata/wycheproof/SHA256SUMS by TestWycheproofDataUnmodified.
//
// JWS and JWK vectors run at the signature layer — Verify's framing and
// verifySigned — because their payloads ("foo", "Test", empty) are not claim
// sets. Keys come from the group's JWK or JWK Set through ParseKeys and are
// bound by BindKeys to all 13 algorithms (every alg allowed, the key's "alg"
// binding it, "use"/"key_ops" honoured).

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/jwttest"
)

// wycheproofDir is the Wycheproof data directory, relative to this
// package (go test runs a package's tests in its own directory). The files
// are part of the module, so a missing one fails the test that reads it.
const wycheproofDir = "testdata/wycheproof"

// wycheproofJOSE is the shape shared by the four JOSE files.
type wycheproofJOSE struct {
	NumberOfTests int `json:"numberOfTests"`
	TestGroups    []struct {
		Comment string          `json:"comment"`
		Private json.RawMessage `json:"private"`
		Public  json.RawMessage `json:"public"`
		Tests   []struct {
			TcID    int             `json:"tcId"`
			Comment string          `json:"comment"`
			JWS     json.RawMessage `json:"jws"`
			JWE     json.RawMessage `json:"jwe"`
			Result  string          `json:"result"`
			Flags   []string        `json:"flags"`
		} `json:"tests"`
	} `json:"testGroups"`
}

func loadWycheproof(t testing.TB, rel string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(wycheproofDir, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatalf("wycheproof: reading the vectors (they ship in providers/%s): %v", wycheproofDir, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("wycheproof: decoding %s: %v", rel, err)
	}
}

// wycheproofToken returns the token a test presents: the string itself, or
// the JSON text of a JSON-serialized JWS/JWE (stored as an object in some
// files).
func wycheproofToken(t testing.TB, raw json.RawMessage) (token string, isJSON bool) {
	t.Helper()
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		if err := json.Unmarshal(raw, &token); err != nil {
			t.Fatalf("wycheproof: token string: %v", err)
		}
		return token, strings.HasPrefix(strings.TrimSpace(token), "{")
	}
	return string(raw), true
}

// jwsLayer runs Verify's first steps on token without the claims: framing,
// the payload's base64url (decoded, not parsed), then verifySigned (header,
// key selection, signature). nil means the JWS verifies.
func jwsLayer(v *Verifier, token string) error {
	h, p, s, err := frame(token, v.maxSize)
	if err != nil {
		return err
	}
	buf := make([]byte, strictBase64.DecodedLen(len(h))+strictBase64.DecodedLen(len(p))+strictBase64.DecodedLen(len(s)))
	if _, buf, err = decodeInto(buf, p); err != nil {
		return err
	}
	return v.verifySigned(context.Background(), &Token{}, "", token, h, s, buf)
}

// jwsLayerUnframed is jwsLayer without frame: it splits h.p.s itself and
// so accepts an empty payload. It backs the empty-payload exception below,
// proving that those signatures really verify.
func jwsLayerUnframed(v *Verifier, token string) error {
	h, rest, ok1 := strings.Cut(token, ".")
	_, s, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(s, ".") {
		return errSegments
	}
	buf := make([]byte, strictBase64.DecodedLen(len(h))+strictBase64.DecodedLen(len(s)))
	return v.verifySigned(context.Background(), &Token{}, "", token, h, s, buf)
}

// wycheproofKeyJSON picks the group's key document: "public" when present,
// else "private". A private JWK has its private members (d, p, q, dp, dq,
// qi, oth) removed, since ParseKeys refuses private keys, and the public
// half is what a verifier is configured with. "oct" keys are left alone:
// for them "k" is the key, and ParseKeys takes "oct" from configuration
// data. Members such as "use", "key_ops" and "alg" are kept, so a private
// key whose key_ops lack "verify" is still refused. stripped reports
// whether anything was removed.
func wycheproofKeyJSON(public, private json.RawMessage) (doc []byte, stripped bool, err error) {
	if len(public) > 0 && string(public) != "null" {
		return public, false, nil
	}
	strip := func(raw json.RawMessage) (json.RawMessage, bool, error) {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, false, err
		}
		if string(m["kty"]) == `"oct"` {
			return raw, false, nil
		}
		changed := false
		for _, name := range privateMembers {
			if _, ok := m[name]; ok {
				delete(m, name)
				changed = true
			}
		}
		if !changed {
			return raw, false, nil
		}
		out, err := json.Marshal(m)
		return out, true, err
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(private, &set); err != nil {
		return nil, false, err
	}
	if set.Keys == nil {
		return strip(private)
	}
	for i, k := range set.Keys {
		nk, changed, err := strip(k)
		if err != nil {
			return nil, false, err
		}
		set.Keys[i], stripped = nk, stripped || changed
	}
	if !stripped {
		return private, false, nil
	}
	doc, err = json.Marshal(set)
	return doc, true, err
}

// wycheproofVerifier builds the group's verifier: keys through ParseKeys,
// bound through NewStaticKeySet (BindKeys) to all algorithms.
func wycheproofVerifier(public, private json.RawMessage) (*Verifier, bool, error) {
	doc, stripped, err := wycheproofKeyJSON(public, private)
	if err != nil {
		return nil, false, fmt.Errorf("key JSON: %w", err)
	}
	keys, err := ParseKeys(doc)
	if err != nil {
		return nil, stripped, fmt.Errorf("ParseKeys: %w", err)
	}
	ks, err := NewStaticKeySet(keys, Algorithms())
	if err != nil {
		return nil, stripped, fmt.Errorf("BindKeys: %w", err)
	}
	v, err := NewVerifier(VerifierConfig{Name: "wycheproof", Issuer: "x", InsecureSkipAudienceCheck: true, Algorithms: Algorithms(), Keys: ks})
	return v, stripped, err
}

type wycheproofCounts struct{ run, accepted, rejected, suppressed int }

func (c wycheproofCounts) String() string {
	return fmt.Sprintf("%d cases: %d accepted, %d rejected, %d suppressed (expected to differ from the label)", c.run, c.accepted, c.rejected, c.suppressed)
}

// signatureSuite describes one file's run at the signature layer.
type signatureSuite struct {
	file string
	// cases is the number of JWS cases the run must see.
	cases int
	// anomalies maps tcIds whose label is wrong for a key-binding, strict
	// verifier to the verdict we expect instead (true = accept) and why.
	anomalies map[int]anomaly
	// keyRefusals maps tcIds whose keys ParseKeys/BindKeys must refuse to a
	// substring of the refusal, so that a refusal counts as a rejection only
	// for the right reason.
	keyRefusals map[int]string
	// skipGroup, if set, leaves out groups that are not JWS (the JWE groups
	// of json_web_crypto_test.json, run by TestWycheproofJWE).
	skipGroup func(comment string) bool
}

type anomaly struct {
	accept bool
	reason string
}

// jwsAnomalies lists the label problems of json_web_signature_test.json
// (SECURITY.md#wycheproof, testdata/wycheproof/README.md).
var jwsAnomalies = map[int]anomaly{
	346: {false, "RFC 7520 Figure 20: key alg PS256, token alg PS384; a key bound to one alg must reject (RFC 8725 §3.1)"},
	350: {false, "RFC 7520 Figure 20 with key_ops: key alg PS256, token alg PS384; a key bound to one alg must reject"},
	347: {false, "RFC 7520 Figure 27: key alg ES521 (not a registered alg), token ES512; the key cannot be bound"},
	351: {false, "RFC 7520 Figure 27 with key_ops: key alg ES521 (not a registered alg); the key cannot be bound"},
	372: {false, "labelled valid but has a literal '?' in the header base64url; a strict decoder rejects it"},
	373: {false, "labelled valid but has a literal '?' in the payload base64url; a strict decoder rejects it"},
	367: {true, "invalidBase64Padding is byte-identical to the valid tc357 (the '=' was lost upstream); cannot be rejected without rejecting tc357"},
	370: {true, "invalidBase64PaddingInPayload is byte-identical to the valid tc357; cannot be rejected without rejecting tc357"},
}

func TestWycheproofJWS(t *testing.T) {
	runSignatureSuite(t, signatureSuite{
		file:      "testvectors_v1/json_web_signature_test.json",
		cases:     401,
		anomalies: jwsAnomalies,
		keyRefusals: map[int]string{
			353: `"use" is not "sig"`,                  // RSA key with use:enc
			354: `"use" is not "sig"`,                  // EC key with use:enc
			355: `"key_ops" does not include "verify"`, // key_ops:[encrypt]
			356: `"key_ops" does not include "verify"`,
			// tc347/351 (anomalies above): key alg "ES521" is not an algorithm.
			347: `unsupported key algorithm "ES521"`,
			351: `unsupported key algorithm "ES521"`,
		},
	})
}

func TestWycheproofJWSCrypto(t *testing.T) {
	runSignatureSuite(t, signatureSuite{
		file:  "testvectors_v1/json_web_crypto_test.json",
		cases: 49, // jwc#1–49; the jwe_* groups (jwc#50–83) are in TestWycheproofJWE
		keyRefusals: map[int]string{
			46: "ROCA",                               // jws_rsa_roca_key
			47: "mixes secret (oct) and public keys", // jws_mixedSymmetryKeyset
		},
		skipGroup: func(c string) bool { return strings.HasPrefix(c, "jwe_") },
	})
}

func TestWycheproofJWK(t *testing.T) {
	runSignatureSuite(t, signatureSuite{
		file:  "testvectors_v1/json_web_key_test.json",
		cases: 26,
		keyRefusals: map[int]string{
			1:  "mixes secret (oct) and public keys", // MixedKeySet
			4:  "same kid and kty",                   // DuplicateKid (the second key is also non-canonical base64url)
			6:  `unsupported key algorithm "RSA1_5"`, // alg RSA1_5, use enc
			7:  "ROCA",
			8:  "smaller than 2048 bits",
			9:  "exponent",
			10: "shorter than the 32 bytes",
			11: "shorter than the 48 bytes",
			12: "shorter than the 64 bytes",
			16: `"k" missing`, // empty secret
			17: `"k" missing`,
			18: `"k" missing`,
			19: `unsupported key algorithm "ES521"`,
			20: `unsupported key algorithm "ES224"`,
			21: `"use" is not "sig"`,
			22: "not on the curve",
			23: "wrong length", // P-384 with 32-byte coordinates
			24: `"n" missing`,  // kty RSA holding EC members
			25: `unsupported key algorithm "A256GCM"`,
			26: `unsupported key algorithm "A256KW"`,
		},
	})
}

func runSignatureSuite(t *testing.T, suite signatureSuite) {
	var file wycheproofJOSE
	loadWycheproof(t, suite.file, &file)
	var counts wycheproofCounts
	seen := map[int]bool{}
	strippedGroups := 0
	for _, g := range file.TestGroups {
		if suite.skipGroup != nil && suite.skipGroup(g.Comment) {
			continue
		}
		v, stripped, keyErr := wycheproofVerifier(g.Public, g.Private)
		if stripped {
			strippedGroups++
		}
		for _, tc := range g.Tests {
			seen[tc.TcID] = true
			counts.run++
			t.Run(fmt.Sprintf("tc%d_%s", tc.TcID, tc.Comment), func(t *testing.T) {
				token, _ := wycheproofToken(t, tc.JWS)
				wantRefusal, refusalExpected := suite.keyRefusals[tc.TcID]
				var err error
				switch {
				case keyErr != nil && !refusalExpected:
					t.Errorf("group %q: keys refused unexpectedly (a refusal must not stand in for a rejection): %v", g.Comment, keyErr)
					err = keyErr
				case keyErr != nil && !strings.Contains(keyErr.Error(), wantRefusal):
					t.Errorf("group %q: keys refused for the wrong reason: %v, want a refusal mentioning %q", g.Comment, keyErr, wantRefusal)
					err = keyErr
				case keyErr != nil:
					err = keyErr
				case refusalExpected:
					t.Errorf("group %q: keys imported, want them refused (%s)", g.Comment, wantRefusal)
					err = jwsLayer(v, token)
				default:
					err = jwsLayer(v, token)
				}
				accepted := err == nil
				if accepted {
					counts.accepted++
				} else {
					counts.rejected++
				}
				checkVerdict(t, &counts, tc.TcID, tc.Comment, tc.Result, token, accepted, err, suite.anomalies, v)
			})
		}
	}
	if counts.run != suite.cases || len(seen) != suite.cases {
		t.Errorf("%s: ran %d cases (%d distinct tcIds), want %d", suite.file, counts.run, len(seen), suite.cases)
	}
	t.Logf("%s: %v; %d group(s) used a private JWK with its private members removed", suite.file, counts, strippedGroups)
}

// checkVerdict compares one verdict with the label, the anomaly map and the
// empty-payload rule.
func checkVerdict(t *testing.T, counts *wycheproofCounts, id int, comment, label, token string, accepted bool, err error, anomalies map[int]anomaly, v *Verifier) {
	t.Helper()
	var want bool
	switch label {
	case "valid":
		want = true
	case "invalid":
		want = false
	case "acceptable":
		t.Logf("tc%d %s: labelled acceptable, got accepted=%v (err %v)", id, comment, accepted, err)
		return
	default:
		t.Fatalf("tc%d: unknown result %q", id, label)
	}
	if a, ok := anomalies[id]; ok {
		counts.suppressed++
		switch {
		case accepted == want:
			t.Errorf("tc%d %s: needlessly suppressed: behaves as labelled %q (accepted=%v, err %v); remove it from the anomaly map", id, comment, label, accepted, err)
		case accepted != a.accept:
			t.Errorf("tc%d %s: accepted=%v, want %v (anomaly: %s); err %v", id, comment, accepted, a.accept, a.reason, err)
		default:
			t.Logf("SUPPRESSED tc%d %s: labelled %s, expected accepted=%v: %s (err %v)", id, comment, label, a.accept, a.reason, err)
		}
		return
	}
	// A JWS with an empty payload is valid at the JWS level, but a JWT
	// always has a claims object, and frame refuses empty segments
	// (SECURITY.md#framing). Derived from the token, not from
	// tcIds, and only passed when the signature really verifies.
	if want && v != nil && emptyPayload(token) {
		counts.suppressed++
		if !errors.Is(err, errEmptySegment) {
			t.Errorf("tc%d %s: empty payload: accepted=%v, err %v; want frame to refuse it (errEmptySegment, SECURITY.md#framing)", id, comment, accepted, err)
			return
		}
		if uerr := jwsLayerUnframed(v, token); uerr != nil {
			t.Errorf("tc%d %s: empty payload refused by frame, but the signature does not verify either: %v", id, comment, uerr)
			return
		}
		t.Logf("SUPPRESSED tc%d %s: labelled valid; empty payload refused by frame by design (SECURITY.md#framing); the signature itself verifies", id, comment)
		return
	}
	if accepted != want {
		t.Errorf("tc%d %s: accepted=%v, want %v (label %q); err %v; token %.120q", id, comment, accepted, want, label, err, token)
	}
}

func emptyPayload(token string) bool {
	_, rest, ok := strings.Cut(token, ".")
	return ok && strings.HasPrefix(rest, ".") && strings.Count(token, ".") == 2
}

// TestWycheproofJWE: every JWE of json_web_encryption_test.json and of the
// jwe_* groups of json_web_crypto_test.json — valid ones included — is
// refused by Verify and by BearerToken + Verify (SECURITY.md#attacks-framing).
// JSON-serialized ones never get past BearerToken.
func TestWycheproofJWE(t *testing.T) {
	v := jweTestVerifier(t)
	for _, f := range []struct {
		file        string
		cases, json int
		groups      func(string) bool
	}{
		{"testvectors_v1/json_web_encryption_test.json", 139, 1, func(string) bool { return true }},
		{"testvectors_v1/json_web_crypto_test.json", 34, 1, func(c string) bool { return strings.HasPrefix(c, "jwe_") }},
	} {
		t.Run(filepath.Base(f.file), func(t *testing.T) {
			var file wycheproofJOSE
			loadWycheproof(t, f.file, &file)
			var n, nJSON int
			for _, g := range file.TestGroups {
				if !f.groups(g.Comment) {
					continue
				}
				for _, tc := range g.Tests {
					raw := tc.JWE
					if len(raw) == 0 {
						raw = tc.JWS
					}
					if len(raw) == 0 {
						t.Fatalf("tc%d: no jwe or jws member", tc.TcID)
					}
					n++
					t.Run(fmt.Sprintf("tc%d_%s", tc.TcID, tc.Comment), func(t *testing.T) {
						token, isJSON := wycheproofToken(t, raw)
						if isJSON {
							nJSON++
						}
						if tok, err := v.Verify(context.Background(), token); err == nil || tok != nil {
							t.Fatalf("Verify(JWE %s) = %v, %v; want rejection", tc.Result, tok, err)
						} else if !errors.Is(err, authgate.ErrNoCredentials) && !errors.Is(err, authgate.ErrInvalidCredentials) {
							t.Errorf("Verify(JWE) error %v is neither not-mine nor invalid credentials", err)
						}
						r := httptest.NewRequest("GET", "/", nil)
						r.Header.Set("Authorization", "Bearer "+token)
						bearer, err := BearerToken(r)
						switch {
						case isJSON:
							if !errors.Is(err, authgate.ErrMalformedRequest) {
								t.Errorf("BearerToken(JSON-serialized JWE) = %q, %v; want ErrMalformedRequest", bearer, err)
							}
						case err != nil:
							t.Errorf("BearerToken(compact JWE) = %v; want the token (it is a b64token) for Verify to reject", err)
						case bearer != token:
							t.Errorf("BearerToken(compact JWE) = %q, want %q", bearer, token)
						default:
							if tok, err := v.Verify(context.Background(), bearer); err == nil || tok != nil {
								t.Errorf("Verify(BearerToken(JWE)) = %v, %v; want rejection", tok, err)
							}
						}
					})
				}
			}
			if n != f.cases || nJSON != f.json {
				t.Errorf("%s: ran %d JWE cases (%d JSON-serialized), want %d (%d)", f.file, n, nJSON, f.cases, f.json)
			}
			t.Logf("%s: %d JWE cases, all rejected by Verify and BearerToken+Verify; %d JSON-serialized → ErrMalformedRequest", f.file, n, nJSON)
		})
	}
}

// jweTestVerifier is a verifier that accepts real tokens (checked here, so
// the JWE rejections are not vacuous) for RS256 and HS256 keys.
func jweTestVerifier(t *testing.T) *Verifier {
	t.Helper()
	rsaKey := jwttest.Key(RS256, "")
	secret := jwttest.Key(HS256, "").([]byte)
	rk := PublicKey(jwttest.Public(rsaKey))
	rk.ID, rk.Algorithm = "r", RS256
	hk := SecretKey(secret)
	hk.ID, hk.Algorithm = "h", HS256
	ks, err := NewStaticKeySet([]Key{rk, hk}, []string{RS256, HS256})
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(VerifierConfig{Issuer: "x", InsecureSkipAudienceCheck: true, Algorithms: []string{RS256, HS256}, Keys: ks})
	if err != nil {
		t.Fatal(err)
	}
	claims := map[string]any{"iss": "x", "sub": "s", "exp": 4102444800}
	for _, tok := range []string{jwttest.Token(RS256, "r", rsaKey, claims), jwttest.Token(HS256, "h", secret, claims)} {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatalf("control token rejected: %v", err)
		}
	}
	return v
}

// TestWycheproofPrivateJWKStripping checks the choice made by
// wycheproofKeyJSON on every group that has both forms: the private JWK with
// its private members removed must import to the same public keys as the
// group's "public" JWK, or be refused (the rfc7520WithKeyOps private keys
// carry key_ops ["sign, verify"] as one string, or ["sign","verify"] next to
// a public ["verify"]); it must never yield a usable key the public form
// refuses. So using "public" when present, and the stripped private JWK
// otherwise, never widens what a group's verifier trusts.
func TestWycheproofPrivateJWKStripping(t *testing.T) {
	type publicKey interface{ Equal(crypto.PublicKey) bool }
	for _, name := range []string{"json_web_signature_test.json", "json_web_crypto_test.json", "json_web_key_test.json"} {
		var file wycheproofJOSE
		loadWycheproof(t, "testvectors_v1/"+name, &file)
		compared := 0
		for gi, g := range file.TestGroups {
			if len(g.Public) == 0 || string(g.Public) == "null" {
				continue
			}
			doc, _, err := wycheproofKeyJSON(nil, g.Private)
			if err != nil {
				t.Fatalf("%s group %d: %v", name, gi, err)
			}
			fromPrivate, privErr := ParseKeys(doc)
			fromPublic, pubErr := ParseKeys(g.Public)
			switch {
			case privErr == nil && pubErr != nil:
				t.Errorf("%s group %d (%s): stripped private JWK imports, public JWK is refused (%v)", name, gi, g.Comment, pubErr)
			case privErr != nil:
				t.Logf("%s group %d (%s): stripped private JWK refused (%v); public: %v", name, gi, g.Comment, privErr, pubErr)
			case len(fromPrivate) != len(fromPublic):
				t.Errorf("%s group %d (%s): %d keys from the private JWK, %d from the public", name, gi, g.Comment, len(fromPrivate), len(fromPublic))
			default:
				for i := range fromPublic {
					pk, ok := fromPublic[i].Public().(publicKey)
					if !ok || !pk.Equal(fromPrivate[i].Public()) || fromPublic[i].Algorithm != fromPrivate[i].Algorithm || fromPublic[i].ID != fromPrivate[i].ID {
						t.Errorf("%s group %d (%s): key %d differs between private and public JWK", name, gi, g.Comment, i)
					}
				}
				compared++
			}
		}
		if compared == 0 {
			t.Errorf("%s: no group compared", name)
		}
	}
}

// TestWycheproofDataUnmodified: the vectors are byte for byte the upstream
// files listed in testdata/wycheproof/SHA256SUMS, and the directory holds
// nothing else beyond README.md, SHA256SUMS and .gitattributes, so a verdict above is a
// verdict on Wycheproof's data and not on a local edit of it.
func TestWycheproofDataUnmodified(t *testing.T) {
	sums, err := os.ReadFile(filepath.Join(wycheproofDir, "SHA256SUMS"))
	if err != nil {
		t.Fatalf("wycheproof: %v", err)
	}
	listed := map[string]bool{}
	for i, line := range strings.Split(strings.TrimSuffix(string(sums), "\n"), "\n") {
		want, name, ok := strings.Cut(line, "  ")
		if !ok || len(want) != 64 || name == "" || listed[name] {
			t.Fatalf("SHA256SUMS line %d: %q is not `<sha256>  <path>` naming a new file", i+1, line)
		}
		listed[name] = true
		data, err := os.ReadFile(filepath.Join(wycheproofDir, filepath.FromSlash(name)))
		if err != nil {
			t.Errorf("wycheproof: %v", err)
			continue
		}
		if got := fmt.Sprintf("%x", sha256.Sum256(data)); got != want {
			t.Errorf("sha256(%s) = %s, want %s (the file must stay as upstream published it)", name, got, want)
		}
	}
	err = filepath.WalkDir(wycheproofDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(wycheproofDir, path)
		if err != nil {
			return err
		}
		if rel = filepath.ToSlash(rel); rel != "README.md" && rel != "SHA256SUMS" && rel != ".gitattributes" && !listed[rel] {
			t.Errorf("%s/%s is not listed in SHA256SUMS", wycheproofDir, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", wycheproofDir, err)
	}
	if len(listed) != 18 {
		t.Errorf("SHA256SUMS lists %d files, want 18 (LICENSE, 4 JOSE files, 13 primitive files)", len(listed))
	}
}
