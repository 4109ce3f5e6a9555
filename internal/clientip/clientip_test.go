package clientip

import (
	"net/http"
	"testing"
)

func TestIPBelievesOnlyTrustedProxies(t *testing.T) {
	trusted, err := ParsePrefixes("10.0.0.0/8, 192.0.2.1 ,2001:db8::/32")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		trust   bool
		peer    string
		headers map[string][]string
		want    string
	}{
		{"no proxy trusted: peer, headers ignored", false, "10.1.1.1:5000",
			map[string][]string{"X-Forwarded-For": {"203.0.113.9"}}, "10.1.1.1"},
		{"untrusted peer: headers ignored", true, "198.51.100.4:5000",
			map[string][]string{"X-Forwarded-For": {"203.0.113.9"}}, "198.51.100.4"},
		{"trusted peer, one hop", true, "10.1.1.1:5000",
			map[string][]string{"X-Forwarded-For": {"203.0.113.9"}}, "203.0.113.9"},
		{"client-written entries left of the real client are ignored", true, "10.1.1.1:5000",
			map[string][]string{"X-Forwarded-For": {"1.2.3.4, 203.0.113.9"}}, "203.0.113.9"},
		{"chain of trusted proxies, several headers", true, "10.1.1.1:5000",
			map[string][]string{"X-Forwarded-For": {"1.2.3.4, 203.0.113.9", "192.0.2.1, 10.9.9.9"}}, "203.0.113.9"},
		{"all hops trusted: leftmost", true, "10.1.1.1:5000",
			map[string][]string{"X-Forwarded-For": {"10.2.2.2"}}, "10.2.2.2"},
		{"garbage hop: stop at the last trusted address", true, "10.1.1.1:5000",
			map[string][]string{"X-Forwarded-For": {"203.0.113.9, not-an-ip"}}, "10.1.1.1"},
		{"empty header: peer", true, "10.1.1.1:5000",
			map[string][]string{"X-Forwarded-For": {""}}, "10.1.1.1"},
		{"Forwarded when no X-Forwarded-For", true, "10.1.1.1:5000",
			map[string][]string{"Forwarded": {`for=1.2.3.4, for="[2001:db9::7]:443";proto=https`}}, "2001:db9::7"},
		{"X-Forwarded-For wins over Forwarded", true, "10.1.1.1:5000",
			map[string][]string{"Forwarded": {"for=1.2.3.4"}, "X-Forwarded-For": {"203.0.113.9"}}, "203.0.113.9"},
		{"Forwarded unknown: the proxy", true, "10.1.1.1:5000",
			map[string][]string{"Forwarded": {"for=unknown"}}, "10.1.1.1"},
		{"IPv6 peer, mapped IPv4 hop", true, "[2001:db8::1]:5000",
			map[string][]string{"X-Forwarded-For": {"::ffff:203.0.113.9"}}, "203.0.113.9"},
		{"hop with a port", true, "10.1.1.1:5000",
			map[string][]string{"X-Forwarded-For": {"203.0.113.9:1234"}}, "203.0.113.9"},
		{"mapped IPv4 peer: unmapped", false, "[::ffff:198.51.100.4]:5000", nil, "198.51.100.4"},
		{"IPv6 peer: canonical text", false, "[2001:DB8:0:0::1]:5000", nil, "2001:db8::1"},
		{"IPv4 peer without a port", false, "198.51.100.4", nil, "198.51.100.4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: tt.peer, Header: http.Header(tt.headers)}
			c := New(nil)
			if tt.trust {
				c = New(trusted)
			}
			if got := c.IP(r); got != tt.want {
				t.Errorf("IP = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParsePrefixesRefusesJunk(t *testing.T) {
	for _, in := range []string{"10.0.0.0/33", "proxy.example", "10.0.0.0/8,,x"} {
		if _, err := ParsePrefixes(in); err == nil {
			t.Errorf("ParsePrefixes(%q) accepted", in)
		}
	}
	if ps, err := ParsePrefixes(""); err != nil || ps != nil {
		t.Errorf("ParsePrefixes(\"\") = %v, %v; want none", ps, err)
	}
}
