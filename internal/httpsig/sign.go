package httpsig

import (
	"crypto/rand"
	"encoding/base64"
	"time"

	"github.com/dunglas/httpsfv"
)

// SignOptions says what Sign covers. Zero values take defaults.
type SignOptions struct {
	// Label names the signature; default "sig1".
	Label string
	// Components are the covered components; default @method,
	// @target-uri, and content-digest when the message has that field.
	Components []string
	// Created defaults to now; Nonce to 16 random bytes, base64url.
	Created time.Time
	Nonce   string
}

// Sign signs m with k and returns the Signature-Input and Signature field
// values. Set Content-Digest (see Digest) in m.Header before signing a
// body. The keyid and alg parameters are always included.
func Sign(m *Message, k *Key, o SignOptions) (input, signature string, err error) {
	if o.Label == "" {
		o.Label = "sig1"
	}
	if o.Components == nil {
		o.Components = []string{"@method", "@target-uri"}
		if _, ok := m.field("Content-Digest"); ok {
			o.Components = append(o.Components, "content-digest")
		}
	}
	if o.Created.IsZero() {
		o.Created = time.Now()
	}
	if o.Nonce == "" {
		b := make([]byte, 16)
		rand.Read(b)
		o.Nonce = base64.RawURLEncoding.EncodeToString(b)
	}
	il := httpsfv.InnerList{Params: httpsfv.NewParams()}
	for _, c := range o.Components {
		il.Items = append(il.Items, httpsfv.NewItem(c))
	}
	il.Params.Add("created", o.Created.Unix())
	il.Params.Add("nonce", o.Nonce)
	il.Params.Add("keyid", k.ID)
	il.Params.Add("alg", k.Alg)
	params, err := httpsfv.Marshal(httpsfv.List{il})
	if err != nil {
		return "", "", Errorf(ReasonMalformed, "cannot serialize the signature parameters: %v", err)
	}
	b, err := base(m, o.Components, params)
	if err != nil {
		return "", "", err
	}
	sig, err := k.sign(b)
	if err != nil {
		return "", "", err
	}
	sv, err := httpsfv.Marshal(httpsfv.List{httpsfv.NewItem(sig)})
	if err != nil {
		return "", "", err
	}
	return o.Label + "=" + params, o.Label + "=" + sv, nil
}
