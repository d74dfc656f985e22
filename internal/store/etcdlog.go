package store

import (
	"strings"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// quietCore drops what etcd logs as errors but is not: the accept loop of
// its peer listener seeing the listener closed on every clean shutdown, and
// a read whose caller cancelled it (a watcher or controller stopping).
type quietCore struct{ zapcore.Core }

func (c quietCore) With(fields []zapcore.Field) zapcore.Core { return quietCore{c.Core.With(fields)} }

func (c quietCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if !c.Enabled(e.Level) {
		return ce
	}
	return ce.AddCore(e, c)
}

func (c quietCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	for _, f := range fields {
		err, ok := f.Interface.(error)
		if !ok {
			continue
		}
		if strings.HasPrefix(e.Message, "setting up serving from embedded etcd failed") && strings.Contains(err.Error(), "use of closed network connection") ||
			strings.Contains(err.Error(), "context canceled") {
			return nil
		}
	}
	return c.Core.Write(e, fields)
}

// etcdLogger returns etcd's logger: its own JSON lines on stderr, at level.
func etcdLogger(level string) (*zap.Logger, error) {
	cfg := zap.NewProductionConfig()
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, err
	}
	cfg.Level = zap.NewAtomicLevelAt(lvl)
	cfg.Sampling = nil
	lg, err := cfg.Build()
	if err != nil {
		return nil, err
	}
	return lg.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core { return quietCore{c} })), nil
}
