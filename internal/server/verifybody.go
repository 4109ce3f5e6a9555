package server

import "github.com/tokend/tokend/api"

// decodeVerifyFast decodes the common verify body without reflection: one
// object of the members token, audience and client_ip (strings) and
// scopes (an array of strings), each at most once, spelled exactly, whose
// strings hold only printable ASCII and no escapes. For any other body it
// reports false and leaves dst alone, and decode takes the general path
// (jsonkeys.Unmarshal), which decodes the bodies this accepts to the same
// value: FuzzDecodeVerifyFast holds the two to that.
func decodeVerifyFast(b []byte, dst *api.VerifyRequest) bool {
	p := fastJSON{b: b}
	var req api.VerifyRequest
	if !p.next('{') {
		return false
	}
	for seen := uint8(0); !p.next('}'); {
		if seen != 0 && !p.next(',') {
			return false
		}
		key, ok := p.raw()
		if !ok || !p.next(':') {
			return false
		}
		var bit uint8
		switch string(key) {
		case "token":
			bit = 1
			req.Token, ok = p.str()
		case "audience":
			bit = 2
			req.Audience, ok = p.str()
		case "client_ip":
			bit = 4
			req.ClientIP, ok = p.str()
		case "scopes":
			bit = 8
			req.Scopes, ok = p.strs()
		}
		if bit == 0 || !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
	}
	p.space()
	if p.i != len(b) {
		return false
	}
	*dst = req
	return true
}

// fastJSON reads the few JSON forms decodeVerifyFast accepts.
type fastJSON struct {
	b []byte
	i int
}

// space skips JSON whitespace.
func (p *fastJSON) space() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\t' || p.b[p.i] == '\n' || p.b[p.i] == '\r') {
		p.i++
	}
}

// next skips whitespace and then c, reporting whether c was there.
func (p *fastJSON) next(c byte) bool {
	p.space()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// raw reads a string of printable ASCII without escapes and returns its
// bytes, which alias the body.
func (p *fastJSON) raw() ([]byte, bool) {
	if !p.next('"') {
		return nil, false
	}
	for j := p.i; j < len(p.b); j++ {
		switch c := p.b[j]; {
		case c == '"':
			s := p.b[p.i:j]
			p.i = j + 1
			return s, true
		case c < 0x20 || c > 0x7e || c == '\\':
			return nil, false
		}
	}
	return nil, false
}

// str reads a string as raw does, copied.
func (p *fastJSON) str() (string, bool) {
	s, ok := p.raw()
	return string(s), ok
}

// strs reads an array of such strings; [] is an empty, not a nil, slice,
// as encoding/json decodes it.
func (p *fastJSON) strs() ([]string, bool) {
	if !p.next('[') {
		return nil, false
	}
	out := []string{}
	for !p.next(']') {
		if len(out) > 0 && !p.next(',') {
			return nil, false
		}
		s, ok := p.str()
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}
