// A development OpenID Connect provider for the sign-in e2e test: any login, any password;
// the account id is the login, its email <login>@example.org. `node provider.mjs PORT REDIRECT_URI`.
import Provider from 'oidc-provider';
const [port, redirect] = [Number(process.argv[2]), process.argv[3]];
const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{ client_id: 'cxrviz', client_secret: 'cxrviz-secret', redirect_uris: [redirect], grant_types: ['authorization_code'], response_types: ['code'] }],
  claims: { openid: ['sub'], email: ['email'], profile: ['name'] },
  findAccount: async (ctx, id) => ({ accountId: id, claims: async () => ({ sub: id, email: `${id}@example.org`, name: id }) }),
  pkce: { required: () => false },
  conformIdTokenClaims: false, // put email and name in the ID token, which is what Streamlit reads
  features: { devInteractions: { enabled: true } },
});
provider.listen(port, '127.0.0.1', () => console.log('ready'));
