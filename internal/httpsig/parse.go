package httpsig

import (
	"strings"
	"time"

	"github.com/dunglas/httpsfv"
)

// Signature is one signature of a request: the label that ties a
// Signature-Input member to its Signature member, the covered components
// in order, the parameters, and the signature bytes.
type Signature struct {
	Label      string
	Components []string
	Created    time.Time // zero when absent
	Expires    time.Time // zero when absent
	Nonce      string
	KeyID      string
	Alg        string
	Tag        string
	Sig        []byte

	params string // the serialized inner list, the @signature-params value
}

// Parse reads the signature of a request from its Signature-Input and
// Signature fields. With several signatures, the first label of
// Signature-Input that Signature also carries is taken. A request with
// neither field is an *Error of ReasonMissing.
func Parse(m *Message) (*Signature, error) {
	in, hasIn := m.field("Signature-Input")
	sv, hasSig := m.field("Signature")
	switch {
	case !hasIn && !hasSig:
		return nil, Errorf(ReasonMissing, "the request is not signed (no Signature-Input and Signature fields)")
	case !hasIn:
		return nil, Errorf(ReasonMalformed, "Signature is present without Signature-Input")
	case !hasSig:
		return nil, Errorf(ReasonMalformed, "Signature-Input is present without Signature")
	}
	inputs, err := httpsfv.UnmarshalDictionary(in)
	if err != nil {
		return nil, Errorf(ReasonMalformed, "Signature-Input is not a structured-field dictionary")
	}
	sigs, err := httpsfv.UnmarshalDictionary(sv)
	if err != nil {
		return nil, Errorf(ReasonMalformed, "Signature is not a structured-field dictionary")
	}
	for _, label := range inputs.Names() {
		sm, ok := sigs.Get(label)
		if !ok {
			continue
		}
		im, _ := inputs.Get(label)
		return parseOne(label, im, sm)
	}
	return nil, Errorf(ReasonMalformed, "no label of Signature-Input (%s) has a value in Signature", strings.Join(inputs.Names(), ", "))
}

func parseOne(label string, im, sm httpsfv.Member) (*Signature, error) {
	il, ok := im.(httpsfv.InnerList)
	if !ok {
		return nil, Errorf(ReasonMalformed, "Signature-Input %q is not an inner list", label)
	}
	item, ok := sm.(httpsfv.Item)
	b, isBytes := item.Value.([]byte)
	if !ok || !isBytes {
		return nil, Errorf(ReasonMalformed, "Signature %q is not a byte sequence (:base64:)", label)
	}
	s := &Signature{Label: label, Sig: b}
	for _, c := range il.Items {
		name, ok := c.Value.(string)
		if !ok {
			return nil, Errorf(ReasonMalformed, "Signature-Input %q covers a component that is not a string", label)
		}
		if len(c.Params.Names()) > 0 {
			return nil, Errorf(ReasonMalformed, "component %q has parameters (%s), which tokend does not support", name, strings.Join(c.Params.Names(), ", "))
		}
		if name != strings.ToLower(name) {
			return nil, Errorf(ReasonMalformed, "component %q is not lower case", name)
		}
		for _, seen := range s.Components {
			if seen == name {
				return nil, Errorf(ReasonMalformed, "component %q is covered twice", name)
			}
		}
		s.Components = append(s.Components, name)
	}
	if err := s.readParams(il.Params); err != nil {
		return nil, err
	}
	ser, err := httpsfv.Marshal(httpsfv.List{il})
	if err != nil {
		return nil, Errorf(ReasonMalformed, "Signature-Input %q cannot be serialized", label)
	}
	s.params = ser
	return s, nil
}

func (s *Signature) readParams(p *httpsfv.Params) error {
	for _, name := range p.Names() {
		v, _ := p.Get(name)
		var ok bool
		switch name {
		case "created", "expires":
			var n int64
			if n, ok = v.(int64); ok {
				t := time.Unix(n, 0)
				if name == "created" {
					s.Created = t
				} else {
					s.Expires = t
				}
			}
		case "nonce":
			s.Nonce, ok = v.(string)
		case "keyid":
			s.KeyID, ok = v.(string)
		case "alg":
			s.Alg, ok = v.(string)
		case "tag":
			s.Tag, ok = v.(string)
		default:
			ok = true // unknown parameters are signed over and otherwise ignored
		}
		if !ok {
			return Errorf(ReasonMalformed, "Signature-Input parameter %q has the wrong type", name)
		}
	}
	return nil
}

// Base returns the signature base (RFC 9421 §2.5) that s signs over m:
// what a signer must have signed, byte for byte.
func (s *Signature) Base(m *Message) ([]byte, error) { return base(m, s.Components, s.params) }
