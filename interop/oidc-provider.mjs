// A certified OpenID provider (npm oidc-provider) for authgate's interop
// tests (oidc/interop_test.go): one confidential client "svc" (secret
// "secret", client_credentials, client_secret_basic) and one resource server
// per signing algorithm, https://api.example.test/<alg lowercased>, whose
// access tokens are JWTs (RFC 9068, typ at+jwt) signed with that algorithm.
//
// For introspection/interop_test.go it also issues opaque access tokens, for
// the resource https://api.example.test/opaque, and serves token
// introspection (RFC 7662, /token/introspection) and revocation (RFC 7009,
// /token/revocation); a second confidential client "api" (secret
// "api-secret", client_secret_post) is the resource server that
// introspects them.
//
// Keys are generated at start with node:crypto, one per algorithm, each
// published with its "alg" and a kid that is new on every start, so a
// restart on the same port is a key rotation.
//
//   node oidc-provider.mjs [port]     (or PORT=...; 0 or nothing: a free port)
//
// It listens on 127.0.0.1 and prints one line when ready:
//   ready http://127.0.0.1:<port> kids=<kid>,<kid>,...
// and stops on SIGTERM or SIGINT.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
const algs = { RS256: ['rsa', { modulusLength: 2048 }], PS256: ['rsa', { modulusLength: 2048 }], ES256: ['ec', { namedCurve: 'P-256' }], EdDSA: ['ed25519', {}] };
const run = randomBytes(4).toString('hex');

const keys = Object.entries(algs).map(([alg, [type, opts]]) => {
  const { privateKey } = generateKeyPairSync(type, opts);
  return { ...privateKey.export({ format: 'jwk' }), kid: `${alg.toLowerCase()}-${run}`, alg, use: 'sig' };
});

const resources = Object.fromEntries(Object.keys(algs).map((alg) => [`https://api.example.test/${alg.toLowerCase()}`, alg]));
const opaqueResource = 'https://api.example.test/opaque';

// Bind first, so the issuer carries the real port.
const { createServer } = await import('node:http');
const server = createServer();
await new Promise((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', resolve); });
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'svc',
    client_secret: 'secret',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
  }, {
    client_id: 'api',
    client_secret: 'api-secret',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  jwks: { keys },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  scopes: ['read', 'write'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => undefined,
      useGrantedResource: () => false,
      getResourceServerInfo: (ctx, resource) => {
        if (resource === opaqueResource) {
          return { scope: 'read write', accessTokenFormat: 'opaque', accessTokenTTL: 300 };
        }
        const alg = resources[resource];
        if (!alg) throw new Provider.errors.InvalidTarget();
        return { scope: 'read write', accessTokenFormat: 'jwt', accessTokenTTL: 300, jwt: { sign: { alg } } };
      },
    },
  },
  extraTokenClaims: () => ({ roles: ['reader'], tenant: 'acme' }),
  enabledJWA: {
    idTokenSigningAlgValues: Object.keys(algs),
  },
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));

server.on('request', provider.callback());
console.log(`ready ${issuer} kids=${keys.map((k) => k.kid).join(',')}`);

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
