// A certified OpenID provider (npm oidc-provider) with interactive sign-in,
// for the browser test of examples/webapp (examples/webapp/browser_test.go):
// its built-in development login and consent pages (devInteractions: any
// login name is accepted with any password), one confidential client
// "webapp" (secret "webapp-secret", client_secret_basic, authorization code
// with PKCE) whose redirect URI is <app>/callback and whose post-logout
// redirect URI is <app>/, and RP-initiated logout.
//
// Accounts are made up from the login name: "<name>@example.test", the name
// capitalised, and the roles ["admin"] for "alice", ["reader"] for anyone
// else. Roles travel in the ID token with the profile scope.
//
// Keys are generated at start with node:crypto (RS256).
//
//   node signin-provider.mjs <port> <app base URL>   (port 0: a free one)
//
// It listens on 127.0.0.1 and prints one line when ready:
//   ready http://127.0.0.1:<port>
// and stops on SIGTERM or SIGINT.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.argv[2] ?? 0);
const app = (process.argv[3] ?? '').replace(/\/$/, '');
if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(app)) {
  console.error('usage: node signin-provider.mjs <port> http://127.0.0.1:<app port>');
  process.exit(2);
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const key = { ...privateKey.export({ format: 'jwk' }), kid: `rs256-${randomBytes(4).toString('hex')}`, alg: 'RS256', use: 'sig' };

const server = createServer();
await new Promise((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', resolve); });
const issuer = `http://127.0.0.1:${server.address().port}`;

const capitalised = (s) => s.charAt(0).toUpperCase() + s.slice(1);

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'webapp',
    client_secret: 'webapp-secret',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: [`${app}/callback`],
    post_logout_redirect_uris: [`${app}/`],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [key] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  claims: { openid: ['sub'], profile: ['name', 'roles'], email: ['email', 'email_verified'] },
  // The ID token carries the claims of the granted scopes, so the site
  // needs no userinfo call.
  conformIdTokenClaims: false,
  pkce: { required: () => true, methods: ['S256'] },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  findAccount: (ctx, id) => ({
    accountId: id,
    claims: () => ({
      sub: id,
      name: capitalised(id),
      email: `${id}@example.test`,
      email_verified: true,
      roles: id === 'alice' ? ['admin'] : ['reader'],
    }),
  }),
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));

server.on('request', provider.callback());
console.log(`ready ${issuer}`);

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
