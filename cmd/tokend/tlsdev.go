package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// devCertLifetime is how long a generated development certificate lasts;
// an expired one is replaced at the next start.
const devCertLifetime = 365 * 24 * time.Hour

// devCertificate returns the paths of the development certificate and key
// in dataDir (--tls-self-signed) and the certificate's SHA-256
// fingerprint. It reuses the pair a previous start wrote while the
// certificate is valid at now, so that clients that pinned or trusted it
// keep working; else it writes a new self-signed ECDSA P-256 certificate
// for 127.0.0.1, ::1, localhost and the host of addr.
func devCertificate(dataDir, addr string, now time.Time) (certFile, keyFile, fingerprint string, err error) {
	certFile, keyFile = filepath.Join(dataDir, "tls-dev-cert.pem"), filepath.Join(dataDir, "tls-dev-key.pem")
	if der, ok := reusableCert(certFile, keyFile, now); ok {
		return certFile, keyFile, fingerprintOf(der), nil
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", "", err
	}
	tmpl := devTemplate(addr, now)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		return "", "", "", fmt.Errorf("create development certificate: %w", err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return "", "", "", err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		return "", "", "", fmt.Errorf("write development key: %w", err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return "", "", "", fmt.Errorf("write development certificate: %w", err)
	}
	return certFile, keyFile, fingerprintOf(der), nil
}

func devTemplate(addr string, now time.Time) *x509.Certificate {
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	t := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "tokend development"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(devCertLifetime),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}}
	if host, _, err := net.SplitHostPort(addr); err == nil && host != "" && host != "localhost" {
		if ip := net.ParseIP(host); ip == nil {
			t.DNSNames = append(t.DNSNames, host)
		} else if !ip.IsUnspecified() && !ip.IsLoopback() {
			t.IPAddresses = append(t.IPAddresses, ip)
		}
	}
	return t
}

// reusableCert returns the DER of the certificate in certFile when it and
// keyFile exist and the certificate is valid at now.
func reusableCert(certFile, keyFile string, now time.Time) ([]byte, bool) {
	b, err := os.ReadFile(certFile)
	if err != nil {
		return nil, false
	}
	if _, err := os.Stat(keyFile); errors.Is(err, fs.ErrNotExist) {
		return nil, false
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, false
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil || now.After(c.NotAfter) || now.Before(c.NotBefore) {
		return nil, false
	}
	return blk.Bytes, true
}

// fingerprintOf is the SHA-256 of a certificate as colon-separated hex,
// the form browsers and openssl x509 -fingerprint -sha256 show.
func fingerprintOf(der []byte) string {
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}
