package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/tokend/tokend/internal/routetable"
)

// loadRoutes reads a route file (internal/routetable); "" is none.
func loadRoutes(path string) (*routetable.Table, error) {
	if path == "" {
		return nil, nil
	}
	return routetable.Load(path)
}

// hangups subscribes to SIGHUP at once, so that no SIGHUP is missed (or
// kills the process) before reloadOnHangup runs.
func hangups() chan os.Signal {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	return hup
}

// reloadOnHangup reloads the route file at path on every signal of hup
// until ctx ends, and hands the new table to apply. A file that does not
// load, or that apply refuses, leaves the old table in place and is
// logged. Connections are never touched.
func reloadOnHangup(ctx context.Context, hup chan os.Signal, path string, log *slog.Logger, apply func(*routetable.Table) error) {
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		t, err := routetable.Load(path)
		if err == nil {
			err = apply(t)
		}
		if err != nil {
			log.Error("route file not reloaded; the previous routes stay in force", "file", path, "err", err)
			continue
		}
		log.Info("route file reloaded", "file", path, "routes", len(t.Routes()))
	}
}
