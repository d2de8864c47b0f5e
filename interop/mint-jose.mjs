// mint-jose.mjs signs one JWT with npm jose, for authgate's interop tests.
//
// stdin:  {"alg": "ES256", "key": "<PKCS#8 PEM, or base64url HMAC secret>",
//          "kid": "k1", "header": {...extra}, "claims": {...}}
// stdout: the compact JWS.
import { SignJWT, base64url, importPKCS8 } from 'jose';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const req = JSON.parse(input);

const key = req.alg.startsWith('HS')
  ? base64url.decode(req.key)
  : await importPKCS8(req.key, req.alg);

const token = await new SignJWT(req.claims)
  .setProtectedHeader({ ...req.header, alg: req.alg, kid: req.kid })
  .sign(key);

process.stdout.write(token + '\n');
