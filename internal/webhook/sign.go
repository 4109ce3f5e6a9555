package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"time"
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
