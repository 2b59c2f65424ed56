package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// AccessEntry is one request in the access log. Its JSON form, one object
// a line, has the fields time (RFC 3339, UTC, nanoseconds), project,
// route (the matched path prefix), method, host, path, proto, status,
// bytes (response body bytes sent), duration_ms and upstream (the
// instance that answered: "http://127.0.0.1:8081", "unix:/run/x.sock",
// the URL of an external route, or "static").
type AccessEntry struct {
	Time     time.Time
	Project  string
	Route    string
	Method   string
	Host     string
	Path     string
	Proto    string
	Status   int
	Bytes    int64
	Duration time.Duration
	Upstream string
}

// AccessLogConfig configures an AccessLog. Zero fields take defaults.
type AccessLogConfig struct {
	// Path is the file of a project's access log, e.g.
	// LOGS/shop/access.log. Required. Its folder is created as needed.
	Path func(project string) string
	// MaxSize is the size in bytes past which a log is rotated: access.log
	// becomes access.log.1, .1 becomes .2, and so on. Default 10 MiB.
	MaxSize int64
	// Keep is how many rotated files are kept. Default 3.
	Keep int
	// Buffer is how many entries may wait for the writer. When it is full
	// entries are dropped and counted (Dropped), never waited for: the
	// request path does not block on the disk. Default 8192.
	Buffer int

	// Logger gets one line when a project's log cannot be written (disk
	// full, no permission, a folder that went away) and one when it is
	// written again. Nil takes the Logger of the Server the log is given
	// to (Config.Logger), else nothing.
	Logger *slog.Logger
	// OnError, when set, is called when entries start failing to be
	// written, once per failure episode (until OnRecover), with the first
	// error (naming the project and the file). Requests are served all
	// along; the entries that fail are lost and counted (WriteErrors). It
	// runs on the writer goroutine: it must not block for long.
	OnError func(error)
	// OnRecover, when set, is called when every project whose entries
	// failed is written to again, ending the episode OnError began.
	OnRecover func()
}

// AccessLog writes access entries in the background, one file per
// project, with size rotation. Create it with NewAccessLog, give it to
// Config.AccessLog, and Close it after the Server's Shutdown.
type AccessLog struct {
	cfg     AccessLogConfig
	ch      chan AccessEntry
	closed  atomic.Bool
	dropped atomic.Int64
	errs    atomic.Int64
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
	log     atomic.Pointer[slog.Logger]
	// failing holds the projects whose last entry could not be written,
	// with the number of entries lost since; owned by the writer goroutine.
	failing map[string]int64
}

// NewAccessLog starts the writer goroutine.
func NewAccessLog(cfg AccessLogConfig) (*AccessLog, error) {
	if cfg.Path == nil {
		return nil, errors.New("proxy: AccessLogConfig.Path is required")
	}
	if cfg.MaxSize <= 0 {
		cfg.MaxSize = 10 << 20
	}
	if cfg.Keep <= 0 {
		cfg.Keep = 3
	}
	if cfg.Buffer <= 0 {
		cfg.Buffer = 8192
	}
	l := &AccessLog{
		cfg:     cfg,
		ch:      make(chan AccessEntry, cfg.Buffer),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
		failing: make(map[string]int64),
	}
	if cfg.Logger != nil {
		l.log.Store(cfg.Logger)
	}
	go l.run()
	return l, nil
}

// Log queues e without blocking; when the queue is full, or the log is
// closed, e is dropped and counted.
func (l *AccessLog) Log(e AccessEntry) {
	if l.closed.Load() {
		l.dropped.Add(1)
		return
	}
	select {
	case l.ch <- e:
	default:
		l.dropped.Add(1)
	}
}

// useLogger makes logger the one failures are told to, unless the config
// named one.
func (l *AccessLog) useLogger(logger *slog.Logger) {
	l.log.CompareAndSwap(nil, logger)
}

// Dropped is how many entries were dropped because the writer fell behind.
func (l *AccessLog) Dropped() int64 { return l.dropped.Load() }

// WriteErrors is how many entries could not be written to disk.
func (l *AccessLog) WriteErrors() int64 { return l.errs.Load() }

// Close writes what is queued, closes the files and stops the writer, or
// gives up when ctx is done. It is safe to call twice.
func (l *AccessLog) Close(ctx context.Context) error {
	l.once.Do(func() {
		l.closed.Store(true)
		close(l.stop)
	})
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("proxy: access log close: %w", ctx.Err())
	}
}

// logFile is one project's open log.
type logFile struct {
	path string
	f    *os.File
	size int64
}

func (l *AccessLog) run() {
	defer close(l.done)
	files := make(map[string]*logFile)
	defer func() {
		for _, lf := range files {
			_ = lf.f.Close()
		}
	}()
	buf := make([]byte, 0, 1024)
	// idle closes files of projects that stopped getting requests, so a
	// removed project's log can go.
	idle := time.NewTicker(time.Minute)
	defer idle.Stop()
	used := make(map[string]bool)
	for {
		var e AccessEntry
		select {
		case e = <-l.ch:
		case <-idle.C:
			for p, lf := range files {
				if !used[p] {
					_ = lf.f.Close()
					delete(files, p)
				}
			}
			clear(used)
			continue
		case <-l.stop:
			for {
				select {
				case e := <-l.ch:
					buf = l.write(files, buf, e)
				default:
					return
				}
			}
		}
		used[e.Project] = true
		buf = l.write(files, buf, e)
	}
}

// write appends e to its project's log and notes whether that worked.
func (l *AccessLog) write(files map[string]*logFile, buf []byte, e AccessEntry) []byte {
	buf = appendEntry(buf[:0], e)
	err := l.writeLine(files, e.Project, buf)
	if err != nil {
		l.errs.Add(1)
	}
	l.health(e.Project, err)
	return buf
}

// writeLine appends one line to project's log, rotating it first when it
// is full. A file that failed is closed, so the next entry opens the
// path again: a disk with space again, or a log path that now leads
// somewhere writable, is found without a restart.
func (l *AccessLog) writeLine(files map[string]*logFile, project string, line []byte) error {
	lf, err := l.file(files, project)
	if err != nil {
		return err
	}
	if lf.size+int64(len(line)) > l.cfg.MaxSize && lf.size > 0 {
		if err := l.rotate(lf); err != nil {
			if lf.f == nil { // not reopened: the entry has nowhere to go
				delete(files, project)
				return fmt.Errorf("proxy: access log of %s: rotate: %w", project, err)
			}
			l.errs.Add(1) // not rotated, but still written below
		}
	}
	n, err := lf.f.Write(line)
	lf.size += int64(n)
	if err != nil {
		_ = lf.f.Close()
		delete(files, project)
		return fmt.Errorf("proxy: access log of %s: %w", project, err)
	}
	return nil
}

// health follows the failure episodes: the first entry of a project that
// fails is logged, and calls OnError when no other project was failing;
// the first that is written again is logged, and calls OnRecover when it
// was the last one failing.
func (l *AccessLog) health(project string, err error) {
	lost, failing := l.failing[project]
	switch {
	case err != nil && failing:
		l.failing[project] = lost + 1
	case err != nil:
		l.failing[project] = 1
		if log := l.log.Load(); log != nil {
			log.Error("access log cannot be written; requests are served, their entries are lost until it can",
				"project", project, "err", err)
		}
		if len(l.failing) == 1 && l.cfg.OnError != nil {
			l.cfg.OnError(err)
		}
	case failing:
		delete(l.failing, project)
		if log := l.log.Load(); log != nil {
			log.Info("access log is written again", "project", project, "lost", lost)
		}
		if len(l.failing) == 0 && l.cfg.OnRecover != nil {
			l.cfg.OnRecover()
		}
	}
}

func (l *AccessLog) file(files map[string]*logFile, project string) (*logFile, error) {
	if lf := files[project]; lf != nil {
		return lf, nil
	}
	path := l.cfg.Path(project)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	lf := &logFile{path: path, f: f, size: fi.Size()}
	files[project] = lf
	return lf, nil
}

// rotate shifts path.N to path.N+1 (dropping the oldest), path to path.1,
// and reopens path empty. When path could not be renamed it is reopened
// as it is, never truncated; when it could not be reopened lf.f is nil.
func (l *AccessLog) rotate(lf *logFile) error {
	_ = lf.f.Close()
	lf.f = nil
	for i := l.cfg.Keep - 1; i >= 1; i-- {
		_ = os.Rename(lf.path+"."+strconv.Itoa(i), lf.path+"."+strconv.Itoa(i+1))
	}
	renameErr := os.Rename(lf.path, lf.path+".1")
	flags := os.O_WRONLY | os.O_APPEND | os.O_CREATE
	if renameErr == nil {
		flags |= os.O_TRUNC
	}
	f, err := os.OpenFile(lf.path, flags, 0o600)
	if err != nil {
		return errors.Join(renameErr, err)
	}
	lf.f, lf.size = f, 0
	if renameErr != nil {
		if fi, err := f.Stat(); err == nil {
			lf.size = fi.Size()
		}
	}
	return renameErr
}

// appendEntry renders e as one JSON line without reflection.
func appendEntry(b []byte, e AccessEntry) []byte {
	b = append(b, `{"time":"`...)
	b = e.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","project":`...)
	b = appendJSONString(b, e.Project)
	b = append(b, `,"route":`...)
	b = appendJSONString(b, e.Route)
	b = append(b, `,"method":`...)
	b = appendJSONString(b, e.Method)
	b = append(b, `,"host":`...)
	b = appendJSONString(b, e.Host)
	b = append(b, `,"path":`...)
	b = appendJSONString(b, e.Path)
	b = append(b, `,"proto":`...)
	b = appendJSONString(b, e.Proto)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(e.Status), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, e.Bytes, 10)
	b = append(b, `,"duration_ms":`...)
	b = strconv.AppendFloat(b, float64(e.Duration.Microseconds())/1000, 'f', 3, 64)
	b = append(b, `,"upstream":`...)
	b = appendJSONString(b, e.Upstream)
	return append(b, "}\n"...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes
// U+FFFD, control characters and the HTML-sensitive ones are escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
