package serving

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Server serves models over the Open Inference Protocol v2 REST API, the
// KServe v1 predict API and Prometheus /metrics. It is an http.Handler.
type Server struct {
	addr            string
	log             *slog.Logger
	maxBody         int64
	slots           chan struct{} // one per request being read and served
	shutdownTimeout time.Duration
	models          []Model

	byName   map[string]*modelGroup
	entries  []*entry // in registration order, for /metrics
	draining atomic.Bool
	stop     chan struct{}
	stopOnce sync.Once
	workers  sync.WaitGroup
}

// modelGroup is every version of one model name.
type modelGroup struct {
	name     string
	versions []string
	byVer    map[string]*entry
	def      *entry // answers requests without a version
}

// Option configures a Server.
type Option func(*Server)

// WithModels adds models to serve. Several versions of one name may be
// added; requests without a version go to the highest numeric version, or
// to the first one added when versions are not numbers.
func WithModels(models ...Model) Option {
	return func(s *Server) { s.models = append(s.models, models...) }
}

// WithAddr sets the listen address. The default is ":"+$PORT, or ":8080"
// when PORT is unset.
func WithAddr(addr string) Option { return func(s *Server) { s.addr = addr } }

// WithLogger sets the logger; requests are logged at debug level.
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithMaxBodyBytes bounds request bodies (default 32 MiB); larger ones get 413.
func WithMaxBodyBytes(n int64) Option { return func(s *Server) { s.maxBody = n } }

// WithMaxConcurrent bounds the inference requests read and served at once
// (default 64); more wait for a slot. With WithMaxBodyBytes it bounds the
// memory requests can take: n bodies.
func WithMaxConcurrent(n int) Option {
	return func(s *Server) { s.slots = make(chan struct{}, max(n, 1)) }
}

// WithShutdownTimeout bounds how long Run waits for in-flight requests
// after its context ends (default 25s, inside Kubernetes' default 30s
// termination grace period).
func WithShutdownTimeout(d time.Duration) Option {
	return func(s *Server) { s.shutdownTimeout = d }
}

// New builds a server. It starts the batching workers of models that use
// Batching; call Close (or let Run return) to stop them.
func New(opts ...Option) (*Server, error) {
	s := &Server{
		log:             slog.Default(),
		maxBody:         32 << 20,
		shutdownTimeout: 25 * time.Second,
		byName:          map[string]*modelGroup{},
		stop:            make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	if s.slots == nil {
		s.slots = make(chan struct{}, 64)
	}
	if s.addr == "" {
		s.addr = ":8080"
		if p := os.Getenv("PORT"); p != "" {
			s.addr = ":" + p
		}
	}
	if len(s.models) == 0 {
		return nil, errors.New("serving: no models to serve")
	}
	for _, m := range s.models {
		if err := s.add(m); err != nil {
			return nil, err
		}
	}
	for _, g := range s.byName {
		g.def = g.byVer[g.versions[0]]
		if allNumeric(g.versions) {
			hi := slices.MaxFunc(g.versions, func(a, b string) int {
				x, _ := strconv.ParseInt(a, 10, 64)
				y, _ := strconv.ParseInt(b, 10, 64)
				return cmp.Compare(x, y)
			})
			g.def = g.byVer[hi]
		}
	}
	for _, e := range s.entries {
		if e.cfg.maxBatch > 0 {
			for range e.instances {
				s.workers.Add(1)
				go func() {
					defer s.workers.Done()
					e.batchWorker(s.stop)
				}()
			}
		}
		if _, ok := e.model.(Loader); !ok {
			e.ready.Store(true)
		}
	}
	return s, nil
}

func allNumeric(vs []string) bool {
	for _, v := range vs {
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return false
		}
	}
	return true
}

func (s *Server) add(m Model) error {
	if m == nil {
		return errors.New("serving: nil model")
	}
	model, cfg := configOf(m)
	md := model.Metadata()
	if md.Name == "" {
		return errors.New("serving: model without a name")
	}
	for _, t := range append(slices.Clone(md.Inputs), md.Outputs...) {
		if !t.Datatype.Valid() {
			return fmt.Errorf("serving: model %s: tensor %q has unknown datatype %q", md.Name, t.Name, t.Datatype)
		}
	}
	switch {
	case cfg.maxBatch < 0 || cfg.instances < 0 || cfg.maxQueue < 0:
		return fmt.Errorf("serving: model %s: negative batch size, instances or queue", md.Name)
	case cfg.maxBatch > 0 && cfg.maxDelay < 0:
		return fmt.Errorf("serving: model %s: negative batching delay", md.Name)
	}
	g := s.byName[md.Name]
	if g == nil {
		g = &modelGroup{name: md.Name, byVer: map[string]*entry{}}
		s.byName[md.Name] = g
	}
	if g.byVer[md.Version] != nil {
		return fmt.Errorf("serving: model %s version %q added twice", md.Name, md.Version)
	}
	e := &entry{model: model, md: md, cfg: cfg, group: g, stats: newModelStats(md.Name, md.Version), stop: s.stop}
	e.instances = cfg.instances
	if cfg.maxBatch > 0 && e.instances == 0 {
		e.instances = runtime.GOMAXPROCS(0)
	}
	if cfg.maxQueue == 0 {
		e.cfg.maxQueue = 1024
	}
	if cfg.maxBatch > 0 {
		e.queue = make(chan *pending, e.cfg.maxQueue)
	} else if e.instances > 0 {
		e.sem = make(chan struct{}, e.instances)
	}
	g.byVer[md.Version] = e
	g.versions = append(g.versions, md.Version)
	s.entries = append(s.entries, e)
	return nil
}

// Load runs Load on every model that implements Loader and marks it ready.
// Run calls it in the background; call it yourself when using the server
// only as an http.Handler.
func (s *Server) Load(ctx context.Context) error {
	var errs []error
	for _, e := range s.entries {
		if e.ready.Load() {
			continue
		}
		if err := e.model.(Loader).Load(ctx); err != nil {
			errs = append(errs, fmt.Errorf("load model %s: %w", e.md.Name, err))
			continue
		}
		e.ready.Store(true)
	}
	return errors.Join(errs...)
}

// Ready reports whether every model is loaded and the server is not
// shutting down.
func (s *Server) Ready() bool {
	if s.draining.Load() {
		return false
	}
	for _, e := range s.entries {
		if !e.ready.Load() {
			return false
		}
	}
	return true
}

// Addr is the address Run listens on.
func (s *Server) Addr() string { return s.addr }

// Run listens on the server's address and serves until ctx ends, then
// drains: readiness turns false, new connections are refused, and in-flight
// requests finish (up to the shutdown timeout).
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("serving: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve is Run on a listener of your own.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute, // a client trickling a body cannot hold a handler long
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	names := make([]string, 0, len(s.byName))
	for n := range s.byName {
		names = append(names, n)
	}
	slices.Sort(names)
	s.log.Info("serving models", "addr", ln.Addr().String(), "models", names)
	go func() {
		if err := s.Load(ctx); err != nil {
			s.log.Error("model not ready", "err", err)
		}
	}()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		s.Close()
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down, draining in-flight requests", "timeout", s.shutdownTimeout)
	s.draining.Store(true)
	sctx, cancel := context.WithTimeout(context.Background(), s.shutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	s.Close()
	if err != nil {
		return fmt.Errorf("serving: shutdown: %w", err)
	}
	return nil
}

// Close stops the batching workers. Requests still queued are answered
// with 503. Close does not stop an http.Server; Run does that.
func (s *Server) Close() {
	s.stopOnce.Do(func() {
		s.draining.Store(true)
		close(s.stop)
		s.workers.Wait()
		for _, e := range s.entries {
			if e.queue == nil {
				continue
			}
			for {
				select {
				case p := <-e.queue:
					p.done <- result{err: Errorf(http.StatusServiceUnavailable, "server is shutting down")}
					continue
				default:
				}
				break
			}
		}
	})
}

// Serve serves models on :8080 (or :$PORT) until SIGTERM or SIGINT, then
// drains in-flight requests and returns. It is the whole main of a model
// server:
//
//	func main() {
//		if err := serving.Serve(serving.Func("m", predict)); err != nil {
//			log.Fatal(err)
//		}
//	}
func Serve(models ...Model) error {
	s, err := New(WithModels(models...))
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	return s.Run(ctx)
}
