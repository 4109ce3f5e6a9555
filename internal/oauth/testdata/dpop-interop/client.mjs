// An independent DPoP client for tokend's interoperability test
// (internal/oauth/dpop_interop_test.go): panva's dpop package makes the
// keys and proofs; fetch talks to tokend. For each algorithm it gets a
// client_credentials token with a proof (retrying once with the nonce of
// a use_dpop_nonce answer, as RFC 9449 §8 says), then makes a proof for a
// request to the resource server, and prints one JSON line.
//
// usage: node client.mjs <token endpoint> <client id> <client secret> <resource URL>
import { calculateThumbprint, generateKeyPair, generateProof } from 'dpop'

const [tokenURL, clientID, secret, resourceURL] = process.argv.slice(2)
const basic = 'Basic ' + Buffer.from(`${encodeURIComponent(clientID)}:${encodeURIComponent(secret)}`).toString('base64')

async function token(keypair, nonce) {
  const res = await fetch(tokenURL, {
    method: 'POST',
    headers: {
      authorization: basic,
      'content-type': 'application/x-www-form-urlencoded',
      dpop: await generateProof(keypair, tokenURL, 'POST', nonce),
    },
    body: 'grant_type=client_credentials',
  })
  return { status: res.status, nonce: res.headers.get('dpop-nonce'), body: await res.json() }
}

for (const alg of ['ES256', 'PS256', 'RS256', 'Ed25519']) {
  const keypair = await generateKeyPair(alg)
  let answer = await token(keypair)
  let retries = 0
  if (answer.status === 400 && answer.body.error === 'use_dpop_nonce') {
    retries++
    answer = await token(keypair, answer.nonce)
  }
  const out = {
    alg,
    jkt: await calculateThumbprint(keypair.publicKey),
    status: answer.status,
    retries,
    token_type: answer.body.token_type,
    access_token: answer.body.access_token,
    error: answer.body.error,
  }
  if (answer.status === 200) {
    out.resource_proof = await generateProof(keypair, resourceURL, 'GET', answer.nonce, answer.body.access_token)
    out.proof_alg = JSON.parse(Buffer.from(out.resource_proof.split('.')[0], 'base64url')).alg
  }
  console.log(JSON.stringify(out))
}
