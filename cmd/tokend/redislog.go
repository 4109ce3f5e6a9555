package main

import (
	"context"
	"fmt"
	"log/slog"
)

// redisLogger sends go-redis's own messages (pool and dial failures) to
// tokend's slog logger, so that they follow --log-format and --log-level
// instead of going to standard error as plain text. go-redis offers only
// a process-wide logger (redis.SetLogger), so the composition root sets it
// when it connects to Redis, and nowhere else. Its messages name addresses
// and errors, never the URL, and so never a password.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.LogAttrs(ctx, slog.LevelWarn, "redis client", slog.String("detail", fmt.Sprintf(format, v...)))
}
