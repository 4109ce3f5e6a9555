package server

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/credential"
)

// appendVerifyResponse appends v as the JSON object encoding/json makes
// of it (same members, order, omissions and escaping), without
// reflection: every POST /v1/verify answers with it. Strings are escaped
// by credential.AppendJSONString; times, durations and metadata by their
// own MarshalJSON or AppendText, as encoding/json would call them. It
// reports false, for the caller to use encoding/json (which then fails
// the same way), when one of those fails: a time outside years 0–9999, or
// metadata that is not JSON; and for a nil v, which encoding/json writes
// as null.
func appendVerifyResponse(dst []byte, v *api.VerifyResponse) ([]byte, bool) {
	if v == nil {
		return dst, false
	}
	ok := true
	dst = append(dst, `{"valid":`...)
	dst = strconv.AppendBool(dst, v.Valid)
	dst = append(dst, `,"code":`...)
	dst = credential.AppendJSONString(dst, string(v.Code))
	if t := v.Token; t != nil {
		dst = append(dst, `,"token":`...)
		if dst, ok = appendTokenInfo(dst, t); !ok {
			return dst, false
		}
	}
	if len(v.RateLimits) > 0 {
		dst = append(dst, `,"ratelimits":[`...)
		for i := range v.RateLimits {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, ok = appendRateLimit(dst, &v.RateLimits[i]); !ok {
				return dst, false
			}
		}
		dst = append(dst, ']')
	}
	if v.Credits != nil {
		dst = append(dst, `,"credits":{"remaining":`...)
		dst = strconv.AppendInt(dst, v.Credits.Remaining, 10)
		dst = append(dst, '}')
	}
	dst = appendOptionalString(dst, `,"problem":`, v.Problem)
	if v.SignatureChecked {
		dst = append(dst, `,"signature_checked":true`...)
	}
	dst = appendOptionalString(dst, `,"dpop_nonce":`, v.DPoPNonce)
	dst = appendOptionalString(dst, `,"dpop_error":`, v.DPoPError)
	return append(dst, '}'), true
}

func appendTokenInfo(dst []byte, t *api.TokenInfo) ([]byte, bool) {
	dst = append(dst, `{"id":`...)
	dst = credential.AppendJSONString(dst, t.ID)
	dst = append(dst, `,"kind":`...)
	dst = credential.AppendJSONString(dst, t.Kind)
	dst = append(dst, `,"api_id":`...)
	dst = credential.AppendJSONString(dst, t.APIID)
	dst = append(dst, `,"subject":`...)
	dst = credential.AppendJSONString(dst, t.Subject)
	dst = appendOptionalString(dst, `,"name":`, t.Name)
	dst = append(dst, `,"scopes":`...)
	if t.Scopes == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i, s := range t.Scopes {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = credential.AppendJSONString(dst, s)
		}
		dst = append(dst, ']')
	}
	if t.ExpiresAt != nil {
		dst = append(dst, `,"expires_at":`...)
		var ok bool
		if dst, ok = appendTime(dst, *t.ExpiresAt); !ok {
			return dst, false
		}
	}
	if len(t.Metadata) > 0 {
		// encoding/json compacts raw JSON and escapes HTML in it, and so
		// does json.Marshal of the RawMessage alone.
		m, err := json.Marshal(t.Metadata)
		if err != nil {
			return dst, false
		}
		dst = append(dst, `,"metadata":`...)
		dst = append(dst, m...)
	}
	dst = appendOptionalString(dst, `,"client_id":`, t.ClientID)
	dst = appendOptionalString(dst, `,"jkt":`, t.JKT)
	return append(dst, '}'), true
}

func appendRateLimit(dst []byte, l *api.RateLimitState) ([]byte, bool) {
	dst = append(dst, `{"name":`...)
	dst = credential.AppendJSONString(dst, l.Name)
	dst = append(dst, `,"limit":`...)
	dst = strconv.AppendInt(dst, l.Limit, 10)
	dst = append(dst, `,"remaining":`...)
	dst = strconv.AppendInt(dst, l.Remaining, 10)
	dst = append(dst, `,"reset":`...)
	dst, ok := appendTime(dst, l.Reset)
	if !ok {
		return dst, false
	}
	if dst, ok = appendDuration(dst, `,"window":`, l.Window); !ok {
		return dst, false
	}
	if dst, ok = appendDuration(dst, `,"retry_after":`, l.RetryAfter); !ok {
		return dst, false
	}
	return append(dst, '}'), true
}

// appendTime appends t as Time.MarshalJSON writes it: its AppendText
// between quotes.
func appendTime(dst []byte, t time.Time) ([]byte, bool) {
	b, err := t.AppendText(append(dst, '"'))
	if err != nil {
		return dst, false
	}
	return append(b, '"'), true
}

// appendDuration appends member and d as d.MarshalJSON writes it, a
// member with omitempty, unless d is 0.
func appendDuration(dst []byte, member string, d api.Duration) ([]byte, bool) {
	if d == 0 {
		return dst, true
	}
	b, err := d.MarshalJSON()
	if err != nil {
		return dst, false
	}
	return append(append(dst, member...), b...), true
}

// appendOptionalString appends member and s, a string member with
// omitempty, unless s is empty.
func appendOptionalString(dst []byte, member, s string) []byte {
	if s == "" {
		return dst
	}
	return credential.AppendJSONString(append(dst, member...), s)
}
