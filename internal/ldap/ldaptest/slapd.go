// Package ldaptest runs a real OpenLDAP server (Debian's slapd) for tests:
// on free loopback ports, over a fresh database in a temporary directory,
// with StartTLS and ldaps:// on a certificate of its own CA, seeded with
// people, groups, a locked user and Active-Directory-like entries (see
// Seed), and stopped when the test ends.
//
//	s := ldaptest.Start(t) // skips only when slapd is not installed
//	d, err := ldap.New(ldap.Config{URL: s.URL, CAFile: s.CAFile,
//		BindDN: ldaptest.SearchDN, BindPassword: ldaptest.SearchPassword,
//		UserBase: ldaptest.PeopleBase, GroupBase: ldaptest.GroupBase})
package ldaptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// The directory's suffix, accounts and bases. The search account may read
// everything but passwords.
const (
	Suffix         = "dc=example,dc=com"
	RootDN         = "cn=admin," + Suffix
	RootPassword   = "root-secret"
	SearchDN       = "cn=search," + Suffix
	SearchPassword = "search-secret"
	PeopleBase     = "ou=people," + Suffix
	GroupBase      = "ou=groups," + Suffix
	ADBase         = "ou=ad," + Suffix
)

// Server is a running slapd of the test's own.
type Server struct {
	URL         string // ldap://127.0.0.1:port, with StartTLS offered
	LDAPSURL    string // ldaps://localhost:port
	CAFile      string // PEM of the CA that signed the server's certificate
	OtherCAFile string // PEM of a CA that did not
}

// adSchema is the part of Active Directory's schema that the AD preset
// reads, with AD's OIDs, so that slapd can stand in for a domain
// controller.
const adSchema = `
attributetype ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName'
	EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.656 NAME 'userPrincipalName'
	EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.8 NAME 'userAccountControl'
	EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.159 NAME 'accountExpires'
	EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.2.102 NAME 'memberOf'
	EQUALITY distinguishedNameMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )
objectclass ( 1.2.840.113556.1.5.9 NAME 'user' SUP inetOrgPerson STRUCTURAL
	MAY ( sAMAccountName $ userPrincipalName $ userAccountControl $ accountExpires $ memberOf ) )
`

// tlsConf gives slapd its certificate, for StartTLS and ldaps://.
const tlsConf = `
TLSCACertificateFile {{dir}}/ca.pem
TLSCertificateFile {{dir}}/cert.pem
TLSCertificateKeyFile {{dir}}/key.pem
`

const slapdConf = `
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
include {{dir}}/ad.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
pidfile {{dir}}/slapd.pid
argsfile {{dir}}/slapd.args
database mdb
maxsize 16777216
Suffix "` + Suffix + `"
rootdn "` + RootDN + `"
rootpw ` + RootPassword + `
directory {{dir}}/db
overlay ppolicy
access to attrs=userPassword by anonymous auth by * none
access to * by dn.exact="` + SearchDN + `" read by self read by * none
`

// Seed is the directory's content. alice is in two groups, carol in
// none, bob is locked (pwdAccountLockedTime, which binds do not check
// without a password policy: tokend must), and "al*" would match alice
// if the username were not escaped. Under ou=ad, eve and frank (whose
// userAccountControl has ACCOUNTDISABLE) and gina (whose account
// expires at the start of 2030) look like Active Directory users.
const Seed = `
dn: ` + Suffix + `
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ` + SearchDN + `
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: search
userPassword: ` + SearchPassword + `

dn: ` + PeopleBase + `
objectClass: organizationalUnit
ou: people

dn: ` + GroupBase + `
objectClass: organizationalUnit
ou: groups

dn: ` + ADBase + `
objectClass: organizationalUnit
ou: ad

dn: uid=alice,` + PeopleBase + `
objectClass: inetOrgPerson
uid: alice
cn: Alice Liddell
sn: Liddell
displayName: Alice Liddell
mail: alice@example.com
userPassword: alice-password-1

dn: uid=bob,` + PeopleBase + `
objectClass: inetOrgPerson
uid: bob
cn: Bob Locked
sn: Locked
mail: bob@example.com
userPassword: bob-password-1
pwdAccountLockedTime: 000001010000Z

dn: uid=carol,` + PeopleBase + `
objectClass: inetOrgPerson
uid: carol
cn: Carol
sn: Carol
userPassword: carol-password-1

dn: cn=admins,` + GroupBase + `
objectClass: groupOfNames
cn: admins
member: uid=alice,` + PeopleBase + `

dn: cn=staff,` + GroupBase + `
objectClass: groupOfNames
cn: staff
member: uid=alice,` + PeopleBase + `
member: uid=bob,` + PeopleBase + `

dn: cn=eve,` + ADBase + `
objectClass: user
cn: eve
sn: Eve
displayName: Eve Adams
mail: eve@example.com
sAMAccountName: eve
userPrincipalName: eve@example.com
userAccountControl: 512
accountExpires: 9223372036854775807
memberOf: cn=admins,` + GroupBase + `
memberOf: CN=Domain Users,CN=Users,` + Suffix + `
userPassword: eve-password-1

dn: cn=frank,` + ADBase + `
objectClass: user
cn: frank
sn: Frank
sAMAccountName: frank
userPrincipalName: frank@example.com
userAccountControl: 514
userPassword: frank-password-1

dn: cn=gina,` + ADBase + `
objectClass: user
cn: gina
sn: Gina
sAMAccountName: gina
userPrincipalName: gina@example.com
userAccountControl: 66048
accountExpires: ` + GinaExpires + `
userPassword: gina-password-1
`

// GinaExpires is gina's accountExpires, 2030-01-01T00:00:00Z as Active Directory writes it:
// 100 ns intervals since 1601-01-01.
const GinaExpires = "135379296000000000"

// Start runs slapd on two free loopback ports (ldap:// with StartTLS,
// and ldaps://) over a fresh database in a temporary directory, seeds
// it, and stops it when the test ends. It skips the test only when slapd
// is not installed (.ci/run installs it).
func Start(t testing.TB) *Server {
	t.Helper()
	return start(t, tlsConf+slapdConf)
}

// StartWithoutTLS is Start for a slapd that has no certificate: it
// refuses StartTLS, and LDAPSURL is empty.
func StartWithoutTLS(t testing.TB) *Server {
	t.Helper()
	return start(t, slapdConf)
}

func start(t testing.TB, config string) *Server {
	t.Helper()
	bin := lookSbin("slapd")
	add := lookSbin("ldapadd")
	if bin == "" || add == "" {
		t.Skip("slapd or ldapadd is not installed (apt-get install slapd ldap-utils); .ci/run installs them")
	}
	dir := t.TempDir()
	s := &Server{CAFile: filepath.Join(dir, "ca.pem"), OtherCAFile: filepath.Join(dir, "other-ca.pem")}
	writeCerts(t, dir)
	must(t, os.Mkdir(filepath.Join(dir, "db"), 0o700))
	must(t, os.WriteFile(filepath.Join(dir, "ad.schema"), []byte(adSchema), 0o600))
	conf := filepath.Join(dir, "slapd.conf")
	must(t, os.WriteFile(conf, []byte(strings.ReplaceAll(config, "{{dir}}", dir)), 0o600))
	s.URL = "ldap://127.0.0.1:" + FreePort(t)
	listen := s.URL + "/"
	if config != slapdConf {
		p := FreePort(t)
		s.LDAPSURL, listen = "ldaps://localhost:"+p, listen+" ldaps://127.0.0.1:"+p+"/"
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, "-f", conf, "-h", listen, "-d", "0")
	cmd.Stdout, cmd.Stderr = &out, &out
	must(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	waitReady(t, s.URL, &out)
	ldif := exec.Command(add, "-x", "-H", s.URL, "-D", RootDN, "-w", RootPassword, "-e", "relax")
	ldif.Stdin = strings.NewReader(Seed)
	if b, err := ldif.CombinedOutput(); err != nil {
		t.Fatalf("ldapadd: %v\n%s", err, b)
	}
	return s
}

// lookSbin finds a program on $PATH or in /usr/sbin (not always on a
// non-root PATH).
func lookSbin(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, d := range []string{"/usr/sbin", "/usr/bin"} {
		if _, err := os.Stat(filepath.Join(d, name)); err == nil {
			return filepath.Join(d, name)
		}
	}
	return ""
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

// waitReady waits until slapd answers a root bind, for at most 30 s (a
// loaded machine can take over 10 s to start it).
func waitReady(t testing.TB, url string, out *bytes.Buffer) {
	t.Helper()
	for range 600 {
		if c, err := goldap.DialURL(url); err == nil {
			err = c.Bind(RootDN, RootPassword)
			c.Close()
			if err == nil {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("slapd did not start:\n%s", out)
}

// writeCerts writes a CA, a server certificate for localhost and
// 127.0.0.1 signed by it, the server's key, and an unrelated CA.
func writeCerts(t testing.TB, dir string) {
	t.Helper()
	caKey, ca := newCA(t, "tokend test LDAP CA")
	_, other := newCA(t, "some other CA")
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	must(t, err)
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	must(t, err)
	writePEM(t, filepath.Join(dir, "ca.pem"), "CERTIFICATE", ca.Raw)
	writePEM(t, filepath.Join(dir, "other-ca.pem"), "CERTIFICATE", other.Raw)
	writePEM(t, filepath.Join(dir, "cert.pem"), "CERTIFICATE", der)
	writePEM(t, filepath.Join(dir, "key.pem"), "PRIVATE KEY", pk)
}

func newCA(t testing.TB, name string) (*ecdsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	must(t, err)
	cert, err := x509.ParseCertificate(der)
	must(t, err)
	return key, cert
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	must(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
