// An independent OAuth 2.0 / OpenID Connect client for tokend's
// interoperability test (internal/oauth/oidc_interop_test.go): panva's
// oauth4webapi, which checks every answer strictly (issuer equality,
// RFC 9207 iss, ID-token claims, token types, DPoP nonces), does every
// request and every check; fetch only reads the JWKS.
//
// usage: node oauth4webapi.mjs '{"issuer": ..., "resource": ..., "resource_url": ..., "signing_alg": ...}'
// (harness.mjs has the protocol with the test).
import * as oauth from 'oauth4webapi'
import { ask, atHash, authorize, cfg, check, done, expectError, jwtPart, want } from './harness.mjs'

const issuer = new URL(cfg.issuer)
// tokend runs on http://127.0.0.1 here; the library refuses plain http
// unless told.
const insecure = { [oauth.allowInsecureRequests]: true }
const webRedirect = 'https://app.example/cb'
const nativeRedirect = 'http://127.0.0.1/cb'

// resourceRequest has the library send accessToken (with a DPoP proof
// when dpop is set) to the resource, and validates what a resource
// server would receive with validateJwtAccessToken (RFC 9068, and the
// proof of RFC 9449 §7). Nothing leaves the process: the fetch is the
// resource server.
async function resourceRequest(accessToken, dpop) {
  let claims
  const rs = async (url, init) => {
    claims = await oauth.validateJwtAccessToken(as, new Request(url, init), cfg.resource, { ...insecure, requireDPoP: !!dpop })
    return new Response(null, { status: 204 })
  }
  await oauth.protectedResourceRequest(accessToken, 'GET', new URL(cfg.resource_url), undefined, undefined, {
    DPoP: dpop,
    [oauth.customFetch]: rs,
  })
  return claims
}

// ---- discovery and keys ----

let as
await check('discovery/openid-configuration', async () => {
  const res = await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure })
  as = await oauth.processDiscoveryResponse(issuer, res)
  for (const k of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri', 'registration_endpoint',
    'pushed_authorization_request_endpoint', 'device_authorization_endpoint', 'revocation_endpoint', 'introspection_endpoint']) {
    want(typeof as[k] === 'string', `metadata lacks ${k}`)
  }
  want(as.authorization_response_iss_parameter_supported === true, 'authorization_response_iss_parameter_supported is not true')
  want(as.code_challenge_methods_supported?.includes('S256'), 'S256 is not in code_challenge_methods_supported')
  return { report: { issuer: as.issuer } }
})
await check('discovery/oauth-authorization-server', async () => {
  const res = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure })
  const rfc8414 = await oauth.processDiscoveryResponse(issuer, res)
  want(JSON.stringify(rfc8414) === JSON.stringify(as), 'the RFC 8414 and OpenID metadata differ')
})

const webCrypto = {
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  PS256: { name: 'RSA-PSS', hash: 'SHA-256' },
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  EdDSA: { name: 'Ed25519' },
  Ed25519: { name: 'Ed25519' },
}
await check('jwks', async () => {
  const res = await fetch(as.jwks_uri, { headers: { accept: 'application/json' } })
  want(res.status === 200, `GET jwks_uri = ${res.status}`)
  const { keys } = await res.json()
  want(Array.isArray(keys) && keys.length > 0, 'the JWKS has no keys')
  for (const k of keys) {
    want(k.kid && k.alg && k.use === 'sig', `key ${JSON.stringify(k)} lacks kid, alg or use "sig"`)
    want(!('d' in k) && !('p' in k), `key ${k.kid} is private`)
    if (webCrypto[k.alg]) await crypto.subtle.importKey('jwk', k, webCrypto[k.alg], false, ['verify'])
  }
  return { report: { algs: [...new Set(keys.map((k) => k.alg))] } }
})

async function introspect(client, auth, token) {
  return oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, auth, token, insecure))
}

// ---- dynamic client registration (RFC 7591) ----

async function register(name, metadata) {
  return check(`register/${name}`, async () => {
    const res = await oauth.dynamicClientRegistrationRequest(as, { client_name: `interop ${name}`, ...metadata }, insecure)
    const c = await oauth.processDynamicClientRegistrationResponse(res)
    for (const k of ['token_endpoint_auth_method', 'grant_types', 'redirect_uris']) {
      if (metadata[k] !== undefined) want(JSON.stringify(c[k]) === JSON.stringify(metadata[k]), `registered ${k} ${JSON.stringify(c[k])}`)
    }
    want((c.client_secret !== undefined) === metadata.token_endpoint_auth_method.startsWith('client_secret'),
      'a client_secret is given exactly to clients of the client_secret methods')
    return { client: c, report: { client_id: c.client_id } }
  })
}

const userScope = 'openid profile email offline_access read'
const web = (await register('client_secret_basic', {
  token_endpoint_auth_method: 'client_secret_basic', redirect_uris: [webRedirect],
  grant_types: ['authorization_code', 'refresh_token', 'client_credentials'], response_types: ['code'], scope: userScope,
}))?.client
const post = (await register('client_secret_post', {
  token_endpoint_auth_method: 'client_secret_post', grant_types: ['client_credentials'], scope: 'read',
}))?.client
const jwtKey = await oauth.generateKeyPair('ES256', { extractable: true })
const jwtKid = 'interop-es256'
const pkjwt = (await register('private_key_jwt', {
  token_endpoint_auth_method: 'private_key_jwt', redirect_uris: [webRedirect],
  grant_types: ['authorization_code', 'refresh_token', 'client_credentials'], response_types: ['code'], scope: userScope,
  id_token_signed_response_alg: cfg.signing_alg,
  jwks: { keys: [{ ...(await crypto.subtle.exportKey('jwk', jwtKey.publicKey)), kid: jwtKid, alg: 'ES256', use: 'sig' }] },
}))?.client
const native = (await register('none', {
  token_endpoint_auth_method: 'none', application_type: 'native', redirect_uris: [nativeRedirect],
  grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
  response_types: ['code'], scope: userScope,
}))?.client

const basicAuth = oauth.ClientSecretBasic(web?.client_secret ?? '-')
const postAuth = oauth.ClientSecretPost(post?.client_secret ?? '-')
const jwtAuth = oauth.PrivateKeyJwt({ key: jwtKey.privateKey, kid: jwtKid })

// ---- authorization code + PKCE, iss (RFC 9207), ID token, userinfo ----

// codeRequest is a fresh authorization request's secrets and URL.
async function codeRequest(client, redirect, extra = {}) {
  const verifier = oauth.generateRandomCodeVerifier()
  const r = { verifier, state: oauth.generateRandomState(), nonce: oauth.generateRandomNonce() }
  r.params = new URLSearchParams({
    client_id: client.client_id, redirect_uri: redirect, response_type: 'code', scope: userScope,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    state: r.state, nonce: r.nonce, resource: cfg.resource, ...extra,
  })
  r.url = new URL(as.authorization_endpoint)
  r.url.search = r.params.toString()
  return r
}

const maxAge = 600
let web1 = await check('code/client_secret_basic', async () => {
  const r = await codeRequest(web, webRedirect, { max_age: String(maxAge) })
  const params = oauth.validateAuthResponse(as, web, await authorize(r.url), r.state)
  const res = await oauth.authorizationCodeGrantRequest(as, web, basicAuth, params, webRedirect, r.verifier, insecure)
  const tokens = await oauth.processAuthorizationCodeResponse(as, web, res, { expectedNonce: r.nonce, maxAge, requireIdToken: true })
  const claims = oauth.getValidatedIdTokenClaims(tokens)
  want(tokens.token_type === 'bearer', `token_type ${tokens.token_type}`)
  want(typeof tokens.refresh_token === 'string', 'no refresh token with offline_access')
  want(typeof claims.auth_time === 'number', 'no auth_time')
  return { tokens, claims, res, report: { sub: claims.sub, token_type: tokens.token_type, scope: tokens.scope } }
})
await check('code/id_token_signature', async () => {
  await oauth.validateApplicationLevelSignature(as, web1.res, insecure)
  return { report: { alg: jwtPart(web1.tokens.id_token, 0).alg } }
})
await check('code/id_token_at_hash', async () => {
  const { alg } = jwtPart(web1.tokens.id_token, 0)
  want(web1.claims.at_hash !== undefined, 'the ID token has no at_hash')
  want(web1.claims.at_hash === await atHash(alg, web1.tokens.access_token), `at_hash ${web1.claims.at_hash} does not match`)
})
await check('code/userinfo', async () => {
  const res = await oauth.userInfoRequest(as, web, web1.tokens.access_token, insecure)
  const info = await oauth.processUserInfoResponse(as, web, web1.claims.sub, res)
  want(info.email && info.preferred_username, `userinfo ${JSON.stringify(info)} lacks email or preferred_username`)
  return { report: { preferred_username: info.preferred_username } }
})
await check('code/jwt_access_token', async () => {
  const claims = await resourceRequest(web1.tokens.access_token)
  want(claims.client_id === web.client_id && claims.sub === web1.claims.sub, `claims ${JSON.stringify(claims)}`)
  return { report: { aud: claims.aud, scope: claims.scope } }
})
await check('code/denied', async () => {
  const r = await codeRequest(web, webRedirect, { prompt: 'consent' })
  return expectError('access_denied', async () => oauth.validateAuthResponse(as, web, await authorize(r.url, 'deny'), r.state))
})
await check('code/prompt_none_signed_out', async () => {
  const r = await codeRequest(web, webRedirect, { prompt: 'none' })
  const back = await authorize(r.url, 'allow', true)
  return expectError('login_required', async () => oauth.validateAuthResponse(as, web, back, r.state))
})
await check('code/replayed_code', async () => {
  const r = await codeRequest(web, webRedirect)
  const params = oauth.validateAuthResponse(as, web, await authorize(r.url), r.state)
  const exchange = async () => oauth.processAuthorizationCodeResponse(as, web,
    await oauth.authorizationCodeGrantRequest(as, web, basicAuth, params, webRedirect, r.verifier, insecure), { expectedNonce: r.nonce })
  await exchange()
  return expectError('invalid_grant', exchange)
})

await check('code/no_state', async () => {
  const r = await codeRequest(web, webRedirect)
  r.url.searchParams.delete('state')
  const params = oauth.validateAuthResponse(as, web, await authorize(r.url), oauth.expectNoState)
  await oauth.processAuthorizationCodeResponse(as, web,
    await oauth.authorizationCodeGrantRequest(as, web, basicAuth, params, webRedirect, r.verifier, insecure), { expectedNonce: r.nonce })
})
// ---- refresh token rotation ----

await check('refresh/rotation', async () => {
  const res = await oauth.refreshTokenGrantRequest(as, web, basicAuth, web1.tokens.refresh_token, insecure)
  const tokens = await oauth.processRefreshTokenResponse(as, web, res)
  want(tokens.refresh_token && tokens.refresh_token !== web1.tokens.refresh_token, 'the refresh token was not rotated')
  want(tokens.access_token !== web1.tokens.access_token, 'the access token is the same')
  const claims = oauth.getValidatedIdTokenClaims(tokens)
  if (claims) want(claims.sub === web1.claims.sub, 'the refreshed ID token is about someone else')
  web1.rotated = tokens
  return { report: { id_token: claims !== undefined } }
})
await check('refresh/old_token_refused', async () =>
  expectError('invalid_grant', async () => oauth.processRefreshTokenResponse(as, web,
    await oauth.refreshTokenGrantRequest(as, web, basicAuth, web1.tokens.refresh_token, insecure))))

// ---- pushed authorization requests (RFC 9126) with private_key_jwt ----

let par = await check('par/private_key_jwt', async () => {
  const r = await codeRequest(pkjwt, webRedirect)
  const pushed = await oauth.processPushedAuthorizationResponse(as, pkjwt,
    await oauth.pushedAuthorizationRequest(as, pkjwt, jwtAuth, r.params, insecure))
  const url = new URL(as.authorization_endpoint)
  url.search = new URLSearchParams({ client_id: pkjwt.client_id, request_uri: pushed.request_uri }).toString()
  const params = oauth.validateAuthResponse(as, pkjwt, await authorize(url), r.state)
  const res = await oauth.authorizationCodeGrantRequest(as, pkjwt, jwtAuth, params, webRedirect, r.verifier, insecure)
  const tokens = await oauth.processAuthorizationCodeResponse(as, pkjwt, res, { expectedNonce: r.nonce, requireIdToken: true })
  // The client registered ID tokens of the server's algorithm; the
  // library refuses any other.
  await oauth.validateApplicationLevelSignature(as, res, insecure)
  return { tokens, report: { expires_in: pushed.expires_in, id_token_alg: jwtPart(tokens.id_token, 0).alg } }
})

// ---- client credentials, three ways ----

for (const [name, client, auth] of [['client_secret_basic', web, basicAuth], ['client_secret_post', post, postAuth],
  ['private_key_jwt', pkjwt, jwtAuth]]) {
  await check(`client_credentials/${name}`, async () => {
    const res = await oauth.clientCredentialsGrantRequest(as, client, auth, { scope: 'read', resource: cfg.resource }, insecure)
    const tokens = await oauth.processClientCredentialsResponse(as, client, res)
    const claims = await resourceRequest(tokens.access_token)
    want(claims.client_id === client.client_id, `client_id ${claims.client_id}`)
    return { report: { token_type: tokens.token_type, scope: tokens.scope } }
  })
}
// private_key_jwt with every kind of key the library signs with: it names
// Ed25519 signatures "Ed25519" (RFC 9864), not "EdDSA".
for (const alg of ['PS256', 'RS256', 'Ed25519']) {
  const key = await oauth.generateKeyPair(alg, { extractable: true })
  const c = (await register(`private_key_jwt/${alg}`, {
    token_endpoint_auth_method: 'private_key_jwt', grant_types: ['client_credentials'], scope: 'read',
    jwks: { keys: [{ ...(await crypto.subtle.exportKey('jwk', key.publicKey)), kid: alg, alg, use: 'sig' }] },
  }))?.client
  await check(`client_credentials/private_key_jwt/${alg}`, async () => {
    const auth = oauth.PrivateKeyJwt({ key: key.privateKey, kid: alg })
    const tokens = await oauth.processClientCredentialsResponse(as, c,
      await oauth.clientCredentialsGrantRequest(as, c, auth, { scope: 'read' }, insecure))
    await resourceRequest(tokens.access_token)
    for (const k of ['token_endpoint_auth_signing_alg_values_supported', 'introspection_endpoint_auth_signing_alg_values_supported',
      'revocation_endpoint_auth_signing_alg_values_supported']) {
      want(as[k]?.includes(alg), `${alg} is not in ${k}`)
    }
  })
}
await check('client_credentials/wrong_secret', async () =>
  expectError('invalid_client', async () => oauth.processClientCredentialsResponse(as, web,
    await oauth.clientCredentialsGrantRequest(as, web, oauth.ClientSecretBasic('tokend_cs_wrong'), { scope: 'read' }, insecure))))

// ---- DPoP (RFC 9449), with the nonce dance ----

// withNonce runs request, and once more when it fails with
// use_dpop_nonce: the DPoP handle has kept the nonce. It counts retries.
async function withNonce(request, counter) {
  try {
    return await request()
  } catch (err) {
    if (!oauth.isDPoPNonceError(err)) throw err
    counter.retries++
    return request()
  }
}

for (const alg of ['ES256', 'PS256', 'Ed25519']) {
  await check(`dpop/client_credentials/${alg}`, async () => {
    const dpop = oauth.DPoP(web, await oauth.generateKeyPair(alg))
    const n = { retries: 0 }
    const tokens = await withNonce(async () => oauth.processClientCredentialsResponse(as, web,
      await oauth.clientCredentialsGrantRequest(as, web, basicAuth, { scope: 'read', resource: cfg.resource }, { DPoP: dpop, ...insecure })), n)
    want(tokens.token_type === 'dpop', `token_type ${tokens.token_type}`)
    want(n.retries === 1, `${n.retries} nonce retries, want 1: tokend requires a nonce`)
    const claims = await resourceRequest(tokens.access_token, dpop)
    want(claims.cnf?.jkt === await dpop.calculateThumbprint(), 'cnf.jkt is not the key\'s thumbprint')
    const info = await introspect(web, basicAuth, tokens.access_token)
    want(info.active && info.token_type === 'DPoP' && info.cnf?.jkt === claims.cnf.jkt, `introspection ${JSON.stringify(info)}`)
    return { report: { token_type: tokens.token_type, nonce_retries: n.retries } }
  })
}

const nativeKey = await oauth.generateKeyPair('ES256')
let dpopFlow = await check('dpop/par_code_public_client', async () => {
  const dpop = oauth.DPoP(native, nativeKey)
  const n = { retries: 0 }
  const r = await codeRequest(native, nativeRedirect)
  const pushed = await withNonce(async () => oauth.processPushedAuthorizationResponse(as, native,
    await oauth.pushedAuthorizationRequest(as, native, oauth.None(), r.params, { DPoP: dpop, ...insecure })), n)
  const url = new URL(as.authorization_endpoint)
  url.search = new URLSearchParams({ client_id: native.client_id, request_uri: pushed.request_uri }).toString()
  const params = oauth.validateAuthResponse(as, native, await authorize(url), r.state)
  const tokens = await withNonce(async () => oauth.processAuthorizationCodeResponse(as, native,
    await oauth.authorizationCodeGrantRequest(as, native, oauth.None(), params, nativeRedirect, r.verifier, { DPoP: dpop, ...insecure }),
    { expectedNonce: r.nonce, requireIdToken: true }), n)
  want(tokens.token_type === 'dpop', `token_type ${tokens.token_type}`)
  return { dpop, tokens, sub: oauth.getValidatedIdTokenClaims(tokens).sub, report: { nonce_retries: n.retries } }
})
await check('dpop/userinfo', async () => {
  const n = { retries: 0 }
  const info = await withNonce(async () => oauth.processUserInfoResponse(as, native, dpopFlow.sub,
    await oauth.userInfoRequest(as, native, dpopFlow.tokens.access_token, { DPoP: dpopFlow.dpop, ...insecure })), n)
  return { report: { sub: info.sub, nonce_retries: n.retries } }
})
await check('dpop/userinfo_nonce_challenge', async () => {
  // A new handle of the same key knows no nonce yet: userinfo answers
  // 401 with a WWW-Authenticate DPoP use_dpop_nonce challenge (RFC 9449
  // §9), which the library parses, and the retry carries the nonce.
  const fresh = oauth.DPoP(native, nativeKey)
  const n = { retries: 0 }
  await withNonce(async () => oauth.processUserInfoResponse(as, native, dpopFlow.sub,
    await oauth.userInfoRequest(as, native, dpopFlow.tokens.access_token, { DPoP: fresh, ...insecure })), n)
  want(n.retries === 1, `${n.retries} nonce retries, want 1`)
  return { report: { nonce_retries: n.retries } }
})
await check('dpop/jwt_access_token', async () => {
  const claims = await resourceRequest(dpopFlow.tokens.access_token, dpopFlow.dpop)
  return { report: { jkt: claims.cnf.jkt } }
})
await check('dpop/userinfo_without_proof_refused', async () =>
  expectError('invalid_token', async () => oauth.processUserInfoResponse(as, native, dpopFlow.sub,
    await oauth.userInfoRequest(as, native, dpopFlow.tokens.access_token, insecure))))
await check('dpop/refresh', async () => {
  const n = { retries: 0 }
  const tokens = await withNonce(async () => oauth.processRefreshTokenResponse(as, native,
    await oauth.refreshTokenGrantRequest(as, native, oauth.None(), dpopFlow.tokens.refresh_token, { DPoP: dpopFlow.dpop, ...insecure })), n)
  want(tokens.token_type === 'dpop' && tokens.refresh_token !== dpopFlow.tokens.refresh_token, 'not a rotated DPoP answer')
  dpopFlow.tokens = tokens
  return { report: { nonce_retries: n.retries } }
})
await check('dpop/refresh_with_another_key_refused', async () => {
  const other = oauth.DPoP(native, await oauth.generateKeyPair('ES256'))
  return expectError('invalid_grant', async () => withNonce(async () => oauth.processRefreshTokenResponse(as, native,
    await oauth.refreshTokenGrantRequest(as, native, oauth.None(), dpopFlow.tokens.refresh_token, { DPoP: other, ...insecure })), { retries: 0 }))
})

await check('dpop/dpop_jkt_code', async () => {
  // dpop_jkt (RFC 9449 §10) binds the code in a plain authorization
  // request; the code exchange then needs a proof of that key.
  const dpop = oauth.DPoP(native, await oauth.generateKeyPair('ES256'))
  const r = await codeRequest(native, nativeRedirect, { dpop_jkt: await dpop.calculateThumbprint() })
  const params = oauth.validateAuthResponse(as, native, await authorize(r.url), r.state)
  const other = oauth.DPoP(native, await oauth.generateKeyPair('ES256'))
  const exchange = (h) => withNonce(async () => oauth.processAuthorizationCodeResponse(as, native,
    await oauth.authorizationCodeGrantRequest(as, native, oauth.None(), params, nativeRedirect, r.verifier, { DPoP: h, ...insecure }),
    { expectedNonce: r.nonce }), { retries: 0 })
  // RFC 9449 §10 names no error for another key; tokend says invalid_grant.
  const refused = await expectError('invalid_grant', () => exchange(other))
  const tokens = await exchange(dpop)
  want(tokens.token_type === 'dpop', `token_type ${tokens.token_type}`)
  return refused
})
// ---- device authorization grant (RFC 8628) ----

await check('device', async () => {
  const da = await oauth.processDeviceAuthorizationResponse(as, native, await oauth.deviceAuthorizationRequest(as, native, oauth.None(),
    { scope: 'openid offline_access read', resource: cfg.resource }, insecure))
  const poll = async () => oauth.processDeviceCodeResponse(as, native,
    await oauth.deviceCodeGrantRequest(as, native, oauth.None(), da.device_code, insecure))
  await expectError('authorization_pending', poll)
  await expectError('slow_down', poll)
  await ask({ ask: 'device', user_code: da.user_code, verification_uri_complete: da.verification_uri_complete })
  const tokens = await poll()
  const claims = oauth.getValidatedIdTokenClaims(tokens)
  want(claims?.sub && tokens.refresh_token, 'no ID token or refresh token')
  await resourceRequest(tokens.access_token)
  return { report: { interval: da.interval, expires_in: da.expires_in } }
})

// ---- introspection (RFC 7662) and revocation (RFC 7009) ----

await check('introspect/active', async () => {
  const at = await introspect(pkjwt, jwtAuth, par.tokens.access_token)
  const rt = await introspect(pkjwt, jwtAuth, par.tokens.refresh_token)
  want(at.active && at.client_id === pkjwt.client_id && at.token_type?.toLowerCase() === 'bearer', `access token ${JSON.stringify(at)}`)
  want(rt.active && rt.client_id === pkjwt.client_id, `refresh token ${JSON.stringify(rt)}`)
  return { report: { access: at, refresh: rt } }
})
await check('introspect/another_clients_token', async () => {
  const other = await introspect(web, basicAuth, par.tokens.access_token)
  want(other.active === false && Object.keys(other).length === 1, `another client learns ${JSON.stringify(other)}`)
})
await check('revoke/access_token', async () => {
  await oauth.processRevocationResponse(await oauth.revocationRequest(as, pkjwt, jwtAuth, par.tokens.access_token, insecure))
  const at = await introspect(pkjwt, jwtAuth, par.tokens.access_token)
  want(at.active === false, 'the revoked access token is active')
})
await check('revoke/refresh_token', async () => {
  await oauth.processRevocationResponse(await oauth.revocationRequest(as, pkjwt, jwtAuth, par.tokens.refresh_token,
    { additionalParameters: { token_type_hint: 'refresh_token' }, ...insecure }))
  const rt = await introspect(pkjwt, jwtAuth, par.tokens.refresh_token)
  want(rt.active === false, 'the revoked refresh token is active')
  return expectError('invalid_grant', async () => oauth.processRefreshTokenResponse(as, pkjwt,
    await oauth.refreshTokenGrantRequest(as, pkjwt, jwtAuth, par.tokens.refresh_token, insecure)))
})
await check('revoke/unknown_token', async () => {
  await oauth.processRevocationResponse(await oauth.revocationRequest(as, web, basicAuth, 'not-a-token', insecure))
})

done()
