package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"time"

	"github.com/tokend/tokend/internal/httpsig"
)

// SecretPrefix starts every endpoint secret, as Standard Webhooks
// writes them: "whsec_" and the base64 of the key.
const SecretPrefix = "whsec_"

// secretSize is the key length: 32 bytes, as long as HMAC-SHA256's
// output.
const secretSize = 32

func newSecret() (key []byte, shown string) {
	key = make([]byte, secretSize)
	rand.Read(key)
	return key, SecretPrefix + base64.StdEncoding.EncodeToString(key)
}

// Headers returns the Standard Webhooks headers of one delivery of body:
// the message id (the same on every retry, for the receiver's
// deduplication), the send time in unix seconds, and the signature
// "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>".
func Headers(key []byte, id string, at time.Time, body []byte) map[string]string {
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	return map[string]string{
		"Content-Type":      "application/json",
		"User-Agent":        "tokend-webhooks",
		"Webhook-Id":        id,
		"Webhook-Timestamp": ts,
		"Webhook-Signature": "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)),
	}
}

// rfc9421Components are what the RFC 9421 signature of a delivery
// covers: the request, the body through Content-Digest (RFC 9530), and
// the Standard Webhooks id and timestamp.
var rfc9421Components = []string{"@method", "@target-uri", "content-digest", "webhook-id", "webhook-timestamp"}

// signRFC9421 adds to h (Headers' answer) an RFC 9421 HTTP Message
// Signature of the delivery to url, hmac-sha256 with the same key, keyid
// the endpoint's id, label "tokend": Content-Digest, Signature-Input and
// Signature. The two signature bases never coincide (this one is a list
// of "name": value lines), so one key serves both schemes.
func signRFC9421(h map[string]string, endpointID, url string, key []byte, at time.Time, body []byte) error {
	h["Content-Digest"] = httpsig.Digest(body)
	m := &httpsig.Message{Method: "POST", TargetURI: url, Header: map[string][]string{}, HasBody: true}
	for k, v := range h {
		m.Header[k] = []string{v}
	}
	in, sig, err := httpsig.Sign(m, &httpsig.Key{ID: endpointID, Alg: httpsig.AlgHMACSHA256, Secret: key},
		httpsig.SignOptions{Label: "tokend", Components: rfc9421Components, Created: at})
	if err != nil {
		return err
	}
	h["Signature-Input"], h["Signature"] = in, sig
	return nil
}
