// The protocol between tokend's interoperability test
// (internal/oauth/oidc_interop_test.go) and its Node clients. A client
// prints one JSON line per check: {"check": name, "ok": true, ...} or
// {"check": name, "ok": false, "error": {...}}, the library's error as it
// reported it. When a person must act (sign in and consent, enter a
// device code, sign out) it prints {"ask": ...} and reads the answer, one
// JSON line, from standard input. It ends with {"done": true, "checks":
// n}, n the number of checks it ran.
import { createInterface } from 'node:readline'

// cfg is the test's setup: issuer, resource (an API's audience),
// resource_url (a URL of that API) and signing_alg (the algorithm of the
// server's keys, beside RS256).
export const cfg = JSON.parse(process.argv[2])

const stdin = createInterface({ input: process.stdin })[Symbol.asyncIterator]()

function print(v) {
  process.stdout.write(JSON.stringify(v) + '\n')
}

// ask has the Go test act as the person and returns its answer.
export async function ask(question) {
  print(question)
  const { value, done } = await stdin.next()
  if (done) throw new Error('the test closed standard input')
  const answer = JSON.parse(value)
  if (answer.error) throw new Error(`the person could not ${question.ask}: ${answer.error}`)
  return answer
}

// authorize asks the person to open url (sign in and allow, or deny;
// as a stranger, signed out) and returns the URL tokend sent the
// browser back to.
export async function authorize(url, decision = 'allow', stranger = false) {
  return new URL((await ask({ ask: 'authorize', url: url.href, decision, stranger })).url)
}

// describe keeps what the library said about a failure.
function describe(err) {
  const out = { name: err?.name, code: err?.code, message: err?.message }
  if (err?.error) out.error = err.error
  if (err?.error_description) out.error_description = err.error_description
  if (err?.status) out.status = err.status
  if (err?.cause !== undefined) {
    try {
      out.cause = JSON.stringify(err.cause instanceof URLSearchParams ? Object.fromEntries(err.cause) : err.cause)
    } catch {
      out.cause = String(err.cause)
    }
  }
  return out
}

let checks = 0

// check runs one named check and prints its outcome; it returns fn's
// result ({} for none), or undefined when it failed. A result's report
// is printed with the outcome.
export async function check(name, fn) {
  checks++
  try {
    const details = await fn()
    print({ check: name, ok: true, ...(details?.report ?? {}) })
    return details ?? {}
  } catch (err) {
    print({ check: name, ok: false, error: describe(err) })
    return undefined
  }
}

// done ends the run.
export function done() {
  print({ done: true, checks })
  process.exit(0)
}

// expectError runs fn, which must fail with the OAuth error code want,
// from a response body or a WWW-Authenticate challenge.
export async function expectError(want, fn) {
  try {
    await fn()
  } catch (err) {
    let got = err?.error
    if (err?.name === 'WWWAuthenticateChallengeError') {
      // The libraries report a challenge rather than the body; a Basic
      // challenge (RFC 6749 §5.2) has no error parameter, the body has.
      got = err.cause[0]?.parameters?.error ?? (await err.response.json().catch(() => ({}))).error
    }
    if (got === want) return { report: { error: got } }
    throw new Error(`want the error ${want}, got ${JSON.stringify(describe(err))}`)
  }
  throw new Error(`want the error ${want}, the request succeeded`)
}

export function want(cond, what) {
  if (!cond) throw new Error(what)
}

// atHash is OIDC Core §3.1.3.6's at_hash for an ID token signed with alg.
export async function atHash(alg, token) {
  const hash = alg === 'EdDSA' || alg === 'Ed25519' ? 'SHA-512' : `SHA-${alg.slice(2)}`
  const d = new Uint8Array(await crypto.subtle.digest(hash, new TextEncoder().encode(token)))
  return Buffer.from(d.slice(0, d.length / 2)).toString('base64url')
}

// jwtPart decodes part i (0 the header, 1 the claims) of a JWT.
export function jwtPart(jwt, i) {
  return JSON.parse(Buffer.from(jwt.split('.')[i], 'base64url'))
}
