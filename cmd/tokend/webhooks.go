package main

import (
	"flag"
	"log/slog"
	"time"

	"github.com/tokend/tokend/internal/fetch"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/webhook"
)

// webhookConfig is the webhook settings of "tokend serve".
type webhookConfig struct {
	insecure bool
}

func (c *webhookConfig) register(fs *flag.FlagSet) {
	fs.BoolVar(&c.insecure, "webhooks-insecure-allow-private", false, "let webhook endpoints be plain http and on loopback, private and link-local addresses: for development and tests only ($"+envName("webhooks-insecure-allow-private")+")")
}

// newWebhooks builds the webhook service: endpoints are called through
// a fetch.Fetcher, under the same SSRF rules as client metadata
// documents.
func newWebhooks(c webhookConfig, db *store.DB, kek []byte, log *slog.Logger) *webhook.Service {
	if c.insecure {
		log.Warn("--webhooks-insecure-allow-private is set: an admin can make tokend post events to loopback, private and cloud-metadata addresses over plain http; NOT SAFE FOR PRODUCTION USE")
	}
	sender := fetch.New(fetch.Config{InsecureAllowPrivate: c.insecure, MaxBytes: 4 << 10, Timeout: 10 * time.Second})
	return webhook.New(webhook.Config{DB: db, KEK: kek, Sender: sender, Logger: log})
}
