package providers

// Wycheproof's related_primitives_v1/ vectors run straight against
// verifySignature (SECURITY.md#attacks-signature): raw ECDSA P1363, Ed25519,
// RSA PKCS#1 v1.5, RSA-PSS and HMAC, with keys built by PublicKey and
// SecretKey and bound to the JWS algorithm of the file.

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"testing"

	"github.com/authgate/authgate/internal/jwttest"
)

type primitiveFile struct {
	NumberOfTests int `json:"numberOfTests"`
	TestGroups    []struct {
		PublicKeyDer string `json:"publicKeyDer"`
		SHA          string `json:"sha"`
		MGFSHA       string `json:"mgfSha"`
		SLen         *int   `json:"sLen"`
		KeySize      int    `json:"keySize"`
		TagSize      int    `json:"tagSize"`
		Tests        []struct {
			TcID    int      `json:"tcId"`
			Comment string   `json:"comment"`
			Flags   []string `json:"flags"`
			Key     string   `json:"key"`
			Msg     string   `json:"msg"`
			Sig     string   `json:"sig"`
			Tag     string   `json:"tag"`
			Result  string   `json:"result"`
		} `json:"tests"`
	} `json:"testGroups"`
}

var hashBySHA = map[string]crypto.Hash{"SHA-256": crypto.SHA256, "SHA-384": crypto.SHA384, "SHA-512": crypto.SHA512}

// wrongSaltComment matches the PSS cases whose salt length was changed.
var wrongSaltComment = regexp.MustCompile(`^s_len changed to (\d+)$`)

func TestWycheproofPrimitives(t *testing.T) {
	for _, f := range []struct {
		file  string
		alg   string
		cases int
	}{
		{"ecdsa_secp256r1_sha256_p1363_test.json", ES256, 262},
		{"ecdsa_secp384r1_sha384_p1363_test.json", ES384, 280},
		{"ecdsa_secp521r1_sha512_p1363_test.json", ES512, 318},
		{"ed25519_test.json", EdDSA, 151},
		{"rsa_signature_2048_sha256_test.json", RS256, 259},
		{"rsa_signature_2048_sha384_test.json", RS384, 258},
		{"rsa_signature_2048_sha512_test.json", RS512, 259},
		{"rsa_pss_2048_sha256_mgf1_32_test.json", PS256, 108},
		{"rsa_pss_2048_sha384_mgf1_48_test.json", PS384, 141},
		{"rsa_pss_4096_sha512_mgf1_64_test.json", PS512, 179},
		{"hmac_sha256_test.json", HS256, 174},
		{"hmac_sha384_test.json", HS384, 174},
		{"hmac_sha512_test.json", HS512, 174},
	} {
		t.Run(f.file, func(t *testing.T) {
			var file primitiveFile
			loadWycheproof(t, "related_primitives_v1/"+f.file, &file)
			alg := algorithms[f.alg]
			var counts wycheproofCounts
			wrongSalt := 0
			for gi, g := range file.TestGroups {
				if g.SHA != "" && hashBySHA[g.SHA] != alg.hash {
					t.Fatalf("group %d: hash %s does not match %s", gi, g.SHA, f.alg)
				}
				// expectReject lists labelled-valid cases a JWS verifier must
				// still reject, derived from the group's parameters.
				expectReject := ""
				var key Key
				switch alg.family {
				case familyHMAC:
					if g.TagSize < alg.hash.Size()*8 {
						expectReject = fmt.Sprintf("tag truncated to %d bits; a JWS %s MAC is the full %d bits", g.TagSize, f.alg, alg.hash.Size()*8)
					}
				case familyRSAPSS:
					if g.SLen == nil || *g.SLen != alg.hash.Size() || hashBySHA[g.MGFSHA] != alg.hash {
						expectReject = fmt.Sprintf("group salt length %v / MGF %s: RFC 7518 §3.5 requires salt length = hash length (%d) and MGF1 with the same hash", g.SLen, g.MGFSHA, alg.hash.Size())
					}
					fallthrough
				default:
					der, err := hex.DecodeString(g.PublicKeyDer)
					if err != nil {
						t.Fatalf("group %d: publicKeyDer: %v", gi, err)
					}
					pub, err := x509.ParsePKIXPublicKey(der)
					if err != nil {
						t.Fatalf("group %d: ParsePKIXPublicKey: %v", gi, err)
					}
					key = PublicKey(pub)
					key.Algorithm = f.alg
					// Every public key of these files is one a verifier
					// may be configured with (RSA ≥ 2048 bits, odd e ≥ 3,
					// curve points valid): binding must succeed.
					if _, err := BindKeys([]Key{key}, []string{f.alg}); err != nil {
						t.Errorf("group %d: BindKeys(%s, %s) = %v; want the key accepted", gi, key.Kind(), f.alg, err)
					}
				}
				switch {
				case expectReject != "":
					t.Logf("group %d: labelled-valid cases expected to be rejected: %s", gi, expectReject)
				case alg.family == familyRSAPSS:
					t.Logf("group %d: salt length %d = hash length, MGF1 %s: no labelled-valid case is expected to be rejected", gi, *g.SLen, g.MGFSHA)
				}
				for _, tc := range g.Tests {
					counts.run++
					t.Run(fmt.Sprintf("tc%d_%s", tc.TcID, tc.Comment), func(t *testing.T) {
						msg := mustHex(t, tc.Msg)
						sig := mustHex(t, tc.Sig+tc.Tag)
						k := key
						if alg.family == familyHMAC {
							k = SecretKey(mustHex(t, tc.Key))
							k.Algorithm = f.alg
							// Keys shorter than RFC 7518 §3.2's minimum cannot
							// be bound (so no verifier ever holds them); the
							// MAC itself is still checked here so the
							// primitive is exercised for every vector.
							_, bindErr := BindKeys([]Key{k}, []string{f.alg})
							if short := len(tc.Key)/2 < alg.size; short != (bindErr != nil) {
								t.Errorf("BindKeys(%d-byte %s secret) = %v; want refused=%v", len(tc.Key)/2, f.alg, bindErr, short)
							}
						}
						accepted := verifySignature(&k, alg, string(msg), sig)
						if accepted {
							counts.accepted++
						} else {
							counts.rejected++
						}
						if m := wrongSaltComment.FindStringSubmatch(tc.Comment); m != nil {
							wrongSalt++
							checkWrongSalt(t, k, alg, msg, sig, m[1], accepted)
							return
						}
						switch {
						case tc.Result == "acceptable":
							t.Logf("tc%d %s %v: labelled acceptable, accepted=%v", tc.TcID, tc.Comment, tc.Flags, accepted)
						case tc.Result == "valid" && expectReject != "":
							counts.suppressed++
							if accepted {
								t.Errorf("tc%d %s: accepted, want rejected (%s)", tc.TcID, tc.Comment, expectReject)
							} else {
								t.Logf("SUPPRESSED tc%d %s: labelled valid, rejected: %s", tc.TcID, tc.Comment, expectReject)
							}
						case accepted != (tc.Result == "valid"):
							t.Errorf("tc%d %s %v: verifySignature = %v, want %v (label %q)", tc.TcID, tc.Comment, tc.Flags, accepted, !accepted, tc.Result)
						}
					})
				}
			}
			if counts.run != f.cases || file.NumberOfTests != f.cases {
				t.Errorf("%s: ran %d cases, file says %d, want %d", f.file, counts.run, file.NumberOfTests, f.cases)
			}
			if alg.family == familyRSAPSS && wrongSalt == 0 {
				t.Errorf("%s: no wrong-salt cases found (comment format changed?)", f.file)
			}
			t.Logf("%s (%s): %v; %d wrong-salt cases", f.file, f.alg, counts, wrongSalt)
		})
	}
}

// checkWrongSalt: a PSS signature with another salt length must be
// rejected, and must be a real signature (it verifies with the salt length
// auto-detected, as golang-jwt and go-jose do), so the rejection is due to
// the salt rule alone.
func checkWrongSalt(t *testing.T, k Key, alg *algorithm, msg, sig []byte, sLen string, accepted bool) {
	t.Helper()
	n, _ := strconv.Atoi(sLen)
	if n == alg.hash.Size() {
		t.Fatalf("wrong-salt case with the right salt length %d", n)
	}
	if accepted {
		t.Errorf("PSS signature with salt length %d accepted; want rejected (salt length must be %d)", n, alg.hash.Size())
	}
	h := alg.hash.New()
	h.Write(msg)
	err := rsa.VerifyPSS(k.Public().(*rsa.PublicKey), alg.hash, h.Sum(nil), sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	if err != nil {
		t.Errorf("salt-length-%d signature does not verify with PSSSaltLengthAuto either (%v): the case tests nothing", n, err)
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("hex: %v", err)
	}
	return b
}

// TestROCAFingerprint: the Wycheproof ROCA modulus is flagged; the other
// RSA moduli of the data and a freshly generated key are not.
func TestROCAFingerprint(t *testing.T) {
	var file wycheproofJOSE
	loadWycheproof(t, "testvectors_v1/json_web_key_test.json", &file)
	flagged := 0
	for _, g := range file.TestGroups {
		doc, _, err := wycheproofKeyJSON(g.Public, g.Private)
		if err != nil {
			t.Fatal(err)
		}
		var set struct {
			Keys []struct{ Kty, N, Kid string }
		}
		if err := json.Unmarshal(doc, &set); err != nil {
			t.Fatal(err)
		}
		for _, k := range set.Keys {
			if k.Kty != "RSA" || k.N == "" {
				continue
			}
			b, err := strictBase64.DecodeString(k.N)
			if err != nil {
				t.Fatal(err)
			}
			got := rocaFingerprint(new(big.Int).SetBytes(b))
			if want := g.Comment == "jws_rsa_roca_key"; got != want {
				t.Errorf("rocaFingerprint(%s modulus, kid %q) = %v, want %v", g.Comment, k.Kid, got, want)
			}
			if got {
				flagged++
			}
		}
	}
	if flagged != 1 {
		t.Errorf("flagged %d moduli, want exactly the ROCA one", flagged)
	}
	pub := jwttest.Public(jwttest.Key(RS256, "")).(*rsa.PublicKey)
	if rocaFingerprint(pub.N) {
		t.Error("rocaFingerprint(generated RSA-2048 key) = true, want false")
	}
}
