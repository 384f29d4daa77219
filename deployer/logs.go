package deployer

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// lineWriter writes whole prefixed lines from many streams without
// interleaving them.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) line(prefix, text string) {
	if l == nil || l.w == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "[%s] %s\n", prefix, text)
}

// podStream copies the log of one container of one pod, line by line.
// Following, it reconnects when the stream breaks (an API server restart,
// a kubelet hiccup, a container restart) and resumes from the timestamp of
// the last line it wrote, so no line is lost or repeated.
type podStream struct {
	c                  *Client
	ns, pod, container string
	replica            string
	out                func(text string) // each line, without its timestamp
	follow             bool
	tail               int
	done               chan struct{}
	mu                 sync.Mutex
	ring               []string
	last               time.Time   // latest timestamp written
	recent             []time.Time // timestamps written in the 2 s before last
	skip               int         // lines a resumed stream sends again
	view               LogOptions  // tail, since, timestamps, previous (printing what there is)
}

func (s *podStream) run(ctx context.Context) {
	defer close(s.done)
	backoff := 200 * time.Millisecond
	for {
		err := s.copyOnce(ctx)
		if ctx.Err() != nil || !s.follow {
			return
		}
		// The stream ended: finished, or broken? Ask the pod.
		pod, gerr := s.c.Core.CoreV1().Pods(s.ns).Get(ctx, s.pod, metav1.GetOptions{})
		if apierrors.IsNotFound(gerr) {
			return
		}
		if gerr == nil && err == nil && s.finished(pod) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		if backoff < 2*time.Second {
			backoff *= 2
		}
	}
}

// finished reports whether the container has stopped for good.
func (s *podStream) finished(p *corev1.Pod) bool {
	if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		return true
	}
	for _, cs := range p.Status.ContainerStatuses {
		if cs.Name == s.container && cs.State.Terminated != nil && p.Spec.RestartPolicy == corev1.RestartPolicyNever {
			return true
		}
	}
	return false
}

func (s *podStream) copyOnce(ctx context.Context) error {
	opts := &corev1.PodLogOptions{Container: s.container, Follow: s.follow, Timestamps: true, Previous: s.view.Previous}
	if s.view.Tail > 0 {
		n := s.view.Tail
		opts.TailLines = &n
	}
	if s.view.Since > 0 {
		sec := int64((s.view.Since + time.Second - 1) / time.Second)
		opts.SinceSeconds = &sec
	}
	if !s.last.IsZero() {
		// sinceTime has whole-second precision: ask from the second of the
		// last line and drop what was already written.
		since, n := s.resumeFrom()
		t := metav1.NewTime(since)
		opts.SinceTime = &t
		s.skip = n
	}
	rc, err := s.c.Core.CoreV1().Pods(s.ns).GetLogs(s.pod, opts).Stream(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 64*1024)
	for {
		line, err := br.ReadString('\n')
		if len(line) > 0 {
			if !strings.HasSuffix(line, "\n") && err != nil && s.follow && ctx.Err() == nil {
				// A torn last line of a broken stream: read it again on resume.
				return err
			}
			s.handle(strings.TrimSuffix(line, "\n"))
		}
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// handle writes one "TIMESTAMP text" line. Within one connection every line
// is written: stdout and stderr are timestamped separately, so file order is
// not timestamp order. After a reconnect the first s.skip lines are the ones
// already written (the server replays the same file from the same second).
func (s *podStream) handle(line string) {
	ts, text, ok := strings.Cut(line, " ")
	t, perr := time.Parse(time.RFC3339Nano, ts)
	if !ok || perr != nil {
		s.write(line)
		return
	}
	if s.skip > 0 {
		s.skip--
		return
	}
	if s.view.Timestamps {
		text = ts + " " + text
	}
	if t.After(s.last) {
		s.last = t
	}
	s.recent = append(s.recent, t)
	for len(s.recent) > 0 && s.recent[0].Before(s.last.Add(-2*time.Second)) {
		s.recent = s.recent[1:]
	}
	s.write(text)
}

// resumeFrom is the sinceTime of a reconnect, and how many lines the server
// will send again from there.
func (s *podStream) resumeFrom() (time.Time, int) {
	since := s.last.Truncate(time.Second)
	n := 0
	for _, t := range s.recent {
		if !t.Before(since) {
			n++
		}
	}
	return since, n
}

func (s *podStream) write(text string) {
	s.out(text)
	s.mu.Lock()
	s.ring = append(s.ring, text)
	if len(s.ring) > s.tail {
		s.ring = s.ring[len(s.ring)-s.tail:]
	}
	s.mu.Unlock()
}

func (s *podStream) lastLines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ring...)
}

// ContainerLogs sends the log of one container to each, a line at a time.
// Following, it keeps streaming until the container has finished (or ctx
// ends), reconnecting across API server restarts without losing or
// repeating a line, as Watch does for a run's replicas; otherwise it sends
// what there is.
func (c *Client) ContainerLogs(ctx context.Context, ns, pod, container string, follow bool, each func(line string)) {
	s := &podStream{c: c, ns: ns, pod: pod, container: container, out: each, follow: follow, tail: 1, done: make(chan struct{})}
	s.run(ctx)
}

// LogOptions select what Logs prints.
type LogOptions struct {
	Follow   bool     // keep streaming until the run finishes (or ctx ends)
	Replica  string   // only this replica (e.g. worker-1)
	Observer Observer // progress while following
	// Without Follow, as kubectl logs: the last Tail lines of each replica
	// (0: all), those of the last Since, each line with its RFC 3339 time,
	// or the previous instance of a restarted container.
	Tail       int64
	Since      time.Duration
	Timestamps bool
	Previous   bool
	// Note, when set, is told of each replica that has no logs yet, and
	// why (kubectl logs fails there; fair prints the others).
	Note func(string)
}

// Logs writes the logs of every replica of the run called name to out,
// each line prefixed with its replica. Without Follow it prints what there
// is, replica after replica.
func (c *Client) Logs(ctx context.Context, name string, out io.Writer, o LogOptions) (*Result, error) {
	run, _, err := c.Find(ctx, name)
	if err != nil {
		return nil, err
	}
	if o.Follow {
		if o.Tail > 0 || o.Since > 0 || o.Timestamps || o.Previous {
			return nil, fmt.Errorf("--tail, --since, --timestamps and --previous print what there is; they do not apply with -f, which follows a run from its first line")
		}
		return c.Watch(ctx, run, WatchOptions{Logs: out, Replica: o.Replica, Observer: o.Observer})
	}
	pods, err := c.pods(ctx, run)
	if err != nil {
		return nil, err
	}
	sort.Slice(pods, func(i, j int) bool {
		ri, rj := ReplicaName(run.Kind, run.Name, pods[i]), ReplicaName(run.Kind, run.Name, pods[j])
		if ri != rj {
			return ri < rj
		}
		return pods[i].CreationTimestamp.Before(&pods[j].CreationTimestamp)
	})
	lw := &lineWriter{w: out}
	found := false
	for _, p := range pods {
		replica := ReplicaName(run.Kind, run.Name, p)
		if o.Replica != "" && replica != o.Replica {
			continue
		}
		found = true
		if o.Note != nil && !o.Previous && !containerStarted(p, mainContainer(run.Kind, p)) {
			r := replicaStatus(run.Kind, run.Name, p)
			o.Note(fmt.Sprintf("%s has not started (%s): no logs yet; fair logs %s -f waits for them", replica, strings.TrimSuffix(r.Phase+": "+r.Cause(), ": "), name))
			// What keeps it from starting may have said why: an init
			// container that failed (a model pull).
			for _, cs := range p.Status.InitContainerStatuses {
				if t := cs.State.Terminated; t == nil || t.ExitCode == 0 {
					if t := cs.LastTerminationState.Terminated; t == nil || t.ExitCode == 0 {
						continue
					}
				}
				who := replica + "/" + cs.Name
				s := &podStream{c: c, ns: p.Namespace, pod: p.Name, container: cs.Name, replica: who,
					out: func(text string) { lw.line(who, text) }, tail: 1, done: make(chan struct{}), view: o}
				s.run(ctx)
			}
			continue
		}
		s := &podStream{c: c, ns: p.Namespace, pod: p.Name, container: mainContainer(run.Kind, p), replica: replica,
			out: func(text string) { lw.line(replica, text) }, tail: 1, done: make(chan struct{}), view: o}
		s.run(ctx)
		for _, name := range otherContainers(run, p) {
			if !containerStarted(p, name) {
				continue
			}
			who := replica + "/" + name
			s := &podStream{c: c, ns: p.Namespace, pod: p.Name, container: name, replica: who,
				out: func(text string) { lw.line(who, text) }, tail: 1, done: make(chan struct{}), view: o}
			s.run(ctx)
		}
	}
	if o.Replica != "" && !found {
		return nil, fmt.Errorf("run %s has no replica %q", name, o.Replica)
	}
	if len(pods) == 0 && o.Note != nil {
		o.Note(fmt.Sprintf("%s/%s has no pods yet: no logs; fair logs %s -f waits for them", run.Kind, run.Name, name))
	}
	return nil, ctx.Err()
}
