package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/seal"
	"github.com/tokend/tokend/internal/signer"
	"github.com/tokend/tokend/internal/store"
)

// signingConfig holds the serve settings of JWT signing.
type signingConfig struct {
	issuer      string
	kekFile     string
	kekEnv      string // $TOKEND_KEK, read by serve: it has no flag, so it never shows in process lists
	alg         string
	lead        time.Duration
	rotateEvery time.Duration
	maxTokenTTL time.Duration
}

func (c *signingConfig) register(fs *flag.FlagSet) {
	str(fs, &c.issuer, "issuer", "", "issuer URL of tokend's JWTs, the same on every node; required with --database (default on SQLite http://<addr>, https with TLS)")
	str(fs, &c.kekFile, "kek-file", "", "file holding the base64 key-encryption key of the signing keys and TOTP secrets; else $TOKEND_KEK; else <data-dir>/kek, generated (SQLite only; development only)")
	str(fs, &c.alg, "signing-alg", signer.ES256, "algorithm of new signing keys: ES256, EdDSA or RS256")
	dur(fs, &c.lead, "signing-key-lead", time.Hour, "how long a new signing key is published before it signs")
	dur(fs, &c.rotateEvery, "signing-key-rotate-every", 30*24*time.Hour, "how often the signing key rotates")
	dur(fs, &c.maxTokenTTL, "max-token-ttl", 24*time.Hour, "longest JWT lifetime; a retired signing key stays published this long")
}

// check validates the flags before anything starts (a data directory
// made, a database migrated).
func (c *signingConfig) check() error {
	if !slices.Contains(signer.Algorithms, c.alg) {
		return fmt.Errorf("%w: --signing-alg %q: want ES256, EdDSA or RS256", errUsage, c.alg)
	}
	return nil
}

// issuerURL is --issuer, or the URL the server listens on.
func (c *signingConfig) issuerURL(cfg serveConfig) string {
	if c.issuer != "" {
		return c.issuer
	}
	scheme := "http://"
	if cfg.tlsCert != "" {
		scheme = "https://"
	}
	host, port, err := net.SplitHostPort(cfg.addr)
	if err != nil {
		return scheme + cfg.addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return scheme + net.JoinHostPort(host, port)
}

// kek returns the key-encryption key: from --kek-file, else $TOKEND_KEK,
// else (SQLite only) from <data-dir>/kek, generated on first use. The
// generated key sits next to the database it protects, so it protects
// nothing against a copy of the directory: every start says so. On
// PostgreSQL a generated key would differ per node, so one is required.
func (c *signingConfig) kek(cfg serveConfig, log *slog.Logger) ([]byte, error) {
	switch {
	case c.kekFile != "":
		b, err := os.ReadFile(c.kekFile)
		if err != nil {
			return nil, fmt.Errorf("read --kek-file: %w", err)
		}
		k, err := seal.ParseKEK(string(b))
		if err != nil {
			return nil, fmt.Errorf("--kek-file %s: %w", c.kekFile, err)
		}
		return k, nil
	case c.kekEnv != "":
		k, err := seal.ParseKEK(c.kekEnv)
		if err != nil {
			return nil, fmt.Errorf("$TOKEND_KEK: %w", err)
		}
		return k, nil
	case cfg.database != "":
		return nil, fmt.Errorf("%w: PostgreSQL needs a key-encryption key that every node shares: set --kek-file or $TOKEND_KEK (32 random bytes, base64; e.g. head -c32 /dev/urandom | base64)", errUsage)
	}
	path := filepath.Join(cfg.dataDir, "kek")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		b = []byte(seal.NewKEK() + "\n")
		// O_EXCL: two processes starting together keep the first key.
		f, ferr := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if ferr == nil {
			_, ferr = f.Write(b)
			if cerr := f.Close(); ferr == nil {
				ferr = cerr
			}
		}
		if ferr != nil && !errors.Is(ferr, fs.ErrExist) {
			return nil, fmt.Errorf("create key-encryption key: %w", ferr)
		}
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read key-encryption key: %w", err)
	}
	log.Warn("signing keys are encrypted with a key-encryption key generated in the data directory: for development only; set --kek-file or $TOKEND_KEK in production",
		"path", path)
	k, err := seal.ParseKEK(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// newSigner opens the signing keys, creating the first on a new database.
func newSigner(ctx context.Context, cfg serveConfig, db *store.DB, kek []byte, log *slog.Logger) (*signer.Signer, error) {
	s, err := signer.New(ctx, signer.Config{DB: db, KEK: kek, Alg: cfg.signing.alg, RS256: true, Lead: cfg.signing.lead,
		RotateEvery: cfg.signing.rotateEvery, MaxTokenTTL: cfg.signing.maxTokenTTL, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	return s, nil
}

func signingKeyCommands() []command {
	return []command{
		{"list", "list the JWT signing keys and their states", signingKeysList},
		{"rotate", "start a rotation: a new key signs after the lead time", signingKeysRotate},
	}
}

func signingKeysList(ctx context.Context, c *cmdIO, args []string) error {
	var conn connFlags
	fs := newFlagSet(c, "signing-keys list", "signing-keys list [--json]",
		"Lists the JWT signing keys, oldest first: pending keys are published and sign after the lead time; retired keys stay published until their tokens expire.")
	_, cl, err := connect(c, fs, &conn, args, 0, "no arguments")
	if err != nil {
		return err
	}
	l, err := cl.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("list signing keys: %w", err)
	}
	if conn.json {
		return printJSON(c.stdout, l)
	}
	return printSigningKeys(c.stdout, l.Keys)
}

func signingKeysRotate(ctx context.Context, c *cmdIO, args []string) error {
	var conn connFlags
	fs := newFlagSet(c, "signing-keys rotate", "signing-keys rotate [--json]",
		"Creates a signing key that is published now and signs after the lead time; the active key then retires. If a rotation is pending, shows that key.")
	_, cl, err := connect(c, fs, &conn, args, 0, "no arguments")
	if err != nil {
		return err
	}
	k, err := cl.RotateSigningKey(ctx)
	if err != nil {
		return fmt.Errorf("rotate signing key: %w", err)
	}
	if conn.json {
		return printJSON(c.stdout, k)
	}
	return printSigningKeys(c.stdout, []api.SigningKey{*k})
}

func printSigningKeys(w io.Writer, keys []api.SigningKey) error {
	t := newTable(w)
	t.row("KID", "ALG", "STATE", "ACTIVE", "RETIRED", "UNPUBLISHED")
	for _, k := range keys {
		t.row(k.KID, k.Alg, k.State, when(k.ActiveAt), whenPtr(k.RetiredAt, "-"), whenPtr(k.ExpiresAt, "-"))
	}
	return t.flush()
}
