"""mint_pyjwt.py signs one JWT with python3-jwt (PyJWT), for authgate's interop tests.

stdin:  {"alg": "ES256", "key": "<PKCS#8 PEM, or base64url HMAC secret>",
         "kid": "k1", "header": {...extra}, "claims": {...}}
stdout: the compact JWS.

Run it with Debian's /usr/bin/python3 (python3-jwt 2.6.0, python3-cryptography).
"""

import base64
import json
import sys

import jwt

req = json.load(sys.stdin)

if req["alg"].startswith("HS"):
    secret = req["key"]
    key = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))
else:
    key = req["key"]  # PyJWT loads the PEM itself through cryptography.

headers = dict(req.get("header") or {}, kid=req["kid"])
token = jwt.encode(req["claims"], key, algorithm=req["alg"], headers=headers)
print(token)
