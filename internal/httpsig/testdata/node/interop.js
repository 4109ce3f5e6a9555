// interop.js signs and verifies requests with http-message-signatures, an
// independent RFC 9421 implementation, for internal/httpsig's interop test.
// It reads one JSON command on stdin and writes one JSON answer on stdout:
//   {"op":"sign", alg, key, keyid, nonce, fields, request} -> {headers}
//   {"op":"verify", alg, key, request} -> {ok, error}
// key is a base64 secret for hmac-sha256 and a PEM key otherwise.
'use strict';
const { httpbis, createSigner, createVerifier } = require('http-message-signatures');

function keyOf(cmd) {
  return cmd.alg === 'hmac-sha256' ? Buffer.from(cmd.key, 'base64') : cmd.key;
}

async function sign(cmd) {
  const signed = await httpbis.signMessage({
    key: createSigner(keyOf(cmd), cmd.alg, cmd.keyid),
    name: 'sig1',
    fields: cmd.fields,
    params: ['created', 'nonce', 'keyid', 'alg'],
    paramValues: { nonce: cmd.nonce },
  }, cmd.request);
  return { headers: signed.headers };
}

async function verify(cmd) {
  try {
    const ok = await httpbis.verifyMessage({
      async keyLookup() {
        return { id: cmd.keyid, algs: [cmd.alg], verify: createVerifier(keyOf(cmd), cmd.alg) };
      },
    }, cmd.request);
    return { ok: ok === true };
  } catch (e) {
    return { ok: false, error: String(e.message || e) };
  }
}

let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', async () => {
  const cmd = JSON.parse(input);
  const out = cmd.op === 'sign' ? await sign(cmd) : await verify(cmd);
  process.stdout.write(JSON.stringify(out));
});
