// A relying party as Node apps write one, for tokend's interoperability
// test (internal/oauth/oidc_interop_test.go): panva's openid-client v6,
// which wraps oauth4webapi's checks in whole flows. Registration and
// discovery in one call; the code flow pushed (PAR) with DPoP, its nonce
// retries left to the library, checked from the callback URL (state,
// iss, PKCE, nonce, max_age) with every ID token's signature verified
// (non-repudiation checks), ID tokens of the server's algorithm; userinfo and a DPoP resource request;
// refresh; client_credentials with the library's default
// client_secret_post and with private_key_jwt over Ed25519;
// introspection and revocation; the device grant with the library's own
// polling; and RP-initiated logout, after which prompt=none needs a
// sign-in again.
//
// usage: node openid-client.mjs '{"issuer": ..., "resource": ..., "resource_url": ..., "signing_alg": ...}'
// (harness.mjs has the protocol with the test).
import * as client from 'openid-client'
import { ask, atHash, authorize, cfg, check, done, expectError, jwtPart, want } from './harness.mjs'

const issuer = new URL(cfg.issuer)
// tokend runs on http://127.0.0.1 here; the library refuses plain http
// unless told.
const insecure = { execute: [client.allowInsecureRequests] }
const redirect = 'https://app.example/cb'
const loggedOut = 'https://app.example/signed-out'
const userScope = 'openid profile email offline_access read'

let web, webSecret
await check('register', async () => {
  const metadata = {
    client_name: 'openid-client web app', token_endpoint_auth_method: 'client_secret_basic', redirect_uris: [redirect],
    post_logout_redirect_uris: [loggedOut], grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types: ['code'], scope: userScope, id_token_signed_response_alg: cfg.signing_alg,
  }
  // The secret is known only once registered: the method reads it from
  // the registered metadata.
  web = await client.dynamicClientRegistration(issuer, metadata,
    (as, c, body, headers) => client.ClientSecretBasic(c.client_secret)(as, c, body, headers), insecure)
  webSecret = web.clientMetadata().client_secret
  want(typeof webSecret === 'string', 'no client_secret')
  client.enableNonRepudiationChecks(web)
  want(web.serverMetadata().issuer === cfg.issuer, `issuer ${web.serverMetadata().issuer}`)
  return { report: { client_id: web.clientMetadata().client_id } }
})

let code
await check('code/par_dpop', async () => {
  const keyPair = await client.randomDPoPKeyPair('ES256')
  const dpop = client.getDPoPHandle(web, keyPair)
  const verifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const nonce = client.randomNonce()
  const url = await client.buildAuthorizationUrlWithPAR(web, {
    redirect_uri: redirect, scope: userScope, code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256', state, nonce, max_age: '600', resource: cfg.resource,
  }, { DPoP: dpop })
  want(url.searchParams.has('request_uri') && !url.searchParams.has('code_challenge'), `not a pushed request: ${url}`)
  const tokens = await client.authorizationCodeGrant(web, await authorize(url),
    { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true, maxAge: 600 }, undefined, { DPoP: dpop })
  want(tokens.token_type === 'dpop', `token_type ${tokens.token_type}`)
  const claims = tokens.claims()
  want(claims.at_hash === await atHash(jwtPart(tokens.id_token, 0).alg, tokens.access_token), 'at_hash does not match')
  code = { keyPair, dpop, tokens, claims }
  return { report: { sub: claims.sub, token_type: tokens.token_type, id_token_alg: jwtPart(tokens.id_token, 0).alg } }
})
await check('code/userinfo', async () => {
  const info = await client.fetchUserInfo(web, code.tokens.access_token, code.claims.sub, { DPoP: code.dpop })
  want(info.email === code.claims.email, `userinfo ${JSON.stringify(info)}`)
  return { report: { preferred_username: info.preferred_username } }
})
await check('code/dpop_resource_nonce', async () => {
  // A new handle of the key knows no nonce: the resource (userinfo here)
  // answers with a use_dpop_nonce challenge, which the library answers.
  const fresh = client.getDPoPHandle(web, code.keyPair)
  const res = await client.fetchProtectedResource(web, code.tokens.access_token, new URL(web.serverMetadata().userinfo_endpoint),
    'GET', undefined, undefined, { DPoP: fresh })
  want(res.status === 200, `the resource answered ${res.status}`)
})
let refreshed
await check('refresh', async () => {
  refreshed = await client.refreshTokenGrant(web, code.tokens.refresh_token, undefined, { DPoP: code.dpop })
  want(refreshed.refresh_token && refreshed.refresh_token !== code.tokens.refresh_token, 'the refresh token was not rotated')
  want(refreshed.token_type === 'dpop', `token_type ${refreshed.token_type}`)
})
await check('introspect', async () => {
  const at = await client.tokenIntrospection(web, refreshed.access_token)
  want(at.active && at.token_type === 'DPoP' && typeof at.cnf?.jkt === 'string', `access token ${JSON.stringify(at)}`)
  const old = await client.tokenIntrospection(web, code.tokens.refresh_token)
  want(old.active === false, 'the rotated refresh token is active')
})
await check('revoke', async () => {
  await client.tokenRevocation(web, refreshed.refresh_token)
  const rt = await client.tokenIntrospection(web, refreshed.refresh_token)
  want(rt.active === false, 'the revoked refresh token is active')
  return expectError('invalid_grant', async () => client.refreshTokenGrant(web, refreshed.refresh_token, undefined, { DPoP: code.dpop }))
})

await check('client_credentials/default_client_secret_post', async () => {
  // discovery with a secret and nothing else: the library's default is
  // client_secret_post, whatever the client registered.
  const app = await client.discovery(issuer, web.clientMetadata().client_id, webSecret, undefined, insecure)
  const tokens = await client.clientCredentialsGrant(app, { scope: 'read', resource: cfg.resource })
  want(tokens.token_type === 'bearer' && tokens.scope === 'read', `answer ${JSON.stringify(tokens)}`)
})
await check('client_credentials/private_key_jwt_Ed25519', async () => {
  const key = await client.randomDPoPKeyPair('Ed25519')
  const jwk = { ...(await crypto.subtle.exportKey('jwk', key.publicKey)), kid: 'ed', alg: 'Ed25519', use: 'sig' }
  const m2m = await client.dynamicClientRegistration(issuer, {
    client_name: 'openid-client worker', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [jwk] },
    grant_types: ['client_credentials'], scope: 'read',
  }, client.PrivateKeyJwt({ key: key.privateKey, kid: 'ed' }), insecure)
  const tokens = await client.clientCredentialsGrant(m2m, { scope: 'read', resource: cfg.resource })
  const info = await client.tokenIntrospection(m2m, tokens.access_token)
  want(info.active && info.client_id === m2m.clientMetadata().client_id, `introspection ${JSON.stringify(info)}`)
})

await check('device', async () => {
  const device = await client.dynamicClientRegistration(issuer, {
    client_name: 'openid-client TV', token_endpoint_auth_method: 'none', application_type: 'native',
    grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'], scope: 'openid offline_access read',
  }, client.None(), insecure)
  client.enableNonRepudiationChecks(device)
  const da = await client.initiateDeviceAuthorization(device, { scope: 'openid offline_access read', resource: cfg.resource })
  await ask({ ask: 'device', user_code: da.user_code, verification_uri_complete: da.verification_uri_complete })
  // The library waits the interval (5 s) before it polls.
  const tokens = await client.pollDeviceAuthorizationGrant(device, da)
  want(tokens.claims()?.sub === code.claims.sub && tokens.refresh_token, 'no ID token of the person or no refresh token')
})

await check('logout', async () => {
  const state = client.randomState()
  const url = client.buildEndSessionUrl(web, { id_token_hint: code.tokens.id_token, post_logout_redirect_uri: loggedOut, state })
  const back = new URL((await ask({ ask: 'logout', url: url.href })).url)
  want(back.origin + back.pathname === loggedOut && back.searchParams.get('state') === state, `sent back to ${back}`)
})
await check('logout/prompt_none_needs_sign_in', async () => {
  const state = client.randomState()
  const verifier = client.randomPKCECodeVerifier()
  const url = client.buildAuthorizationUrl(web, { redirect_uri: redirect, scope: 'openid', prompt: 'none', state,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' })
  const back = await authorize(url)
  return expectError('login_required', async () => client.authorizationCodeGrant(web, back, { pkceCodeVerifier: verifier, expectedState: state }))
})

done()
