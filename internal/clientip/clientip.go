// Package clientip finds the address of the client that sent a request:
// the TCP peer, or, when the peer is a proxy the operator trusts, the
// rightmost address in the forwarding headers that is not itself a
// trusted proxy. Addresses further left were written by the client or by
// proxies nobody vouches for, so they are never believed.
package clientip

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver finds client addresses. The zero value trusts no proxy and
// answers the TCP peer. It is safe for concurrent use.
type Resolver struct {
	trusted []netip.Prefix
}

// New returns a Resolver that believes forwarding headers only from peers
// inside trusted.
func New(trusted []netip.Prefix) *Resolver {
	return &Resolver{trusted: trusted}
}

// ParsePrefixes parses a comma-separated list of CIDRs; a bare address
// stands for itself (/32 or /128). An empty list is nil.
func ParsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for f := range strings.SplitSeq(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8 or an address", f)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// IP returns the client's address for r as text. X-Forwarded-For is read
// when present, else Forwarded (RFC 7239); a proxy that writes only
// Forwarded must drop any X-Forwarded-For its clients send.
func (c *Resolver) IP(r *http.Request) string {
	peer, host := peerAddr(r.RemoteAddr)
	if !peer.IsValid() {
		return r.RemoteAddr
	}
	if c == nil || !c.isTrusted(peer) {
		if peer.Is4() && !strings.Contains(host, ":") {
			// An IPv4 address netip parsed has one spelling (no
			// leading zeros): host is peer.String(), without the copy.
			return host
		}
		return peer.String()
	}
	hops := forwarded(r.Header)
	cur := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a := hopAddr(hops[i])
		if !a.IsValid() {
			break // a trusted proxy passed on garbage: believe nothing left of it
		}
		cur = a
		if !c.isTrusted(a) {
			break
		}
	}
	return cur.String()
}

// TrustsPeer reports whether r's TCP peer is a trusted proxy, whose
// forwarding headers IP believes.
func (c *Resolver) TrustsPeer(r *http.Request) bool {
	peer, _ := peerAddr(r.RemoteAddr)
	return c != nil && peer.IsValid() && c.isTrusted(peer)
}

func (c *Resolver) isTrusted(a netip.Addr) bool {
	for _, p := range c.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwarded lists the hops of X-Forwarded-For, or failing that the for=
// values of Forwarded, in the order the proxies appended them.
func forwarded(h http.Header) []string {
	var hops []string
	if xff := h.Values("X-Forwarded-For"); len(xff) > 0 {
		for _, v := range xff {
			for hop := range strings.SplitSeq(v, ",") {
				hops = append(hops, strings.TrimSpace(hop))
			}
		}
		return hops
	}
	for _, v := range h.Values("Forwarded") {
		for elem := range strings.SplitSeq(v, ",") {
			hops = append(hops, forParam(elem))
		}
	}
	return hops
}

// forParam returns the for= value of one Forwarded element, unquoted, or
// "" when it has none.
func forParam(elem string) string {
	for pair := range strings.SplitSeq(elem, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(pair), "=")
		if strings.EqualFold(k, "for") {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

// hopAddr parses "203.0.113.7", "203.0.113.7:443", "2001:db8::1" or
// "[2001:db8::1]:443"; anything else (Forwarded's "unknown", obfuscated
// names) is invalid.
func hopAddr(s string) netip.Addr {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap()
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return a.Unmap()
		}
	}
	return netip.Addr{}
}

// peerAddr parses the address of RemoteAddr, and returns it with its
// text as RemoteAddr holds it.
func peerAddr(remote string) (netip.Addr, string) {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, host
	}
	return a.Unmap(), host
}
