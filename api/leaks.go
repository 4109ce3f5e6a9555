package api

// RevokedLeaked is the revoked_reason of a key or personal access token
// that was revoked because it was reported found in public (POST
// /v1/leaked-tokens).
const RevokedLeaked = "leaked"

// LeakReport is the body of POST /v1/leaked-tokens: a token value found
// in public, and optionally where (a URL, at most 2048 characters).
type LeakReport struct {
	Token string `json:"token"`
	URL   string `json:"url,omitempty"`
}

// LeakReceipt is the answer of POST /v1/leaked-tokens. It is the same for
// every report tokend accepts, whether the token was a live credential,
// one already revoked, unknown or not a tokend token at all.
type LeakReceipt struct {
	Status string `json:"status"` // always "received"
}
