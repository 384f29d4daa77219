package serving

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"sync/atomic"
	"time"
)

// entry is one served model version and its scheduling state.
type entry struct {
	model     Model
	md        Metadata
	cfg       modelConfig
	group     *modelGroup
	stats     *modelStats
	ready     atomic.Bool
	instances int

	sem     chan struct{} // concurrency limit without batching; nil: none
	waiting atomic.Int64
	queue   chan *pending   // requests waiting for a batch
	stop    <-chan struct{} // closed when batch workers stop
	// arriving counts requests read but not yet queued: the only ones a
	// batch could still gain without waiting the full delay.
	arriving atomic.Int64
}

type result struct {
	resp *Response
	err  error
}

// pending is a request waiting in a batch queue.
type pending struct {
	req      *Request
	rows     int64
	enqueued time.Time
	state    atomic.Int32 // queued, then taken (by a worker) or gone (caller stopped waiting)
	done     chan result  // buffered: the worker never blocks on it
}

// pending states: a CAS from queued decides whether the worker runs the
// request or the caller gives up on it, never both.
const (
	queued int32 = iota
	taken
	gone
)

var (
	errBusy     = Errorf(http.StatusTooManyRequests, "model is overloaded, retry later")
	errDraining = Errorf(http.StatusServiceUnavailable, "server is shutting down")
)

// infer runs one request through the model's concurrency limit or batcher.
func (e *entry) infer(ctx context.Context, req *Request) (*Response, error) {
	if e.queue != nil {
		return e.enqueue(ctx, req)
	}
	if e.sem != nil {
		start := time.Now()
		select {
		case e.sem <- struct{}{}:
		default:
			if e.waiting.Add(1) > int64(e.cfg.maxQueue) {
				e.waiting.Add(-1)
				return nil, errBusy
			}
			select {
			case e.sem <- struct{}{}:
				e.waiting.Add(-1)
			case <-ctx.Done():
				e.waiting.Add(-1)
				return nil, Errorf(http.StatusServiceUnavailable, "request cancelled while queued: %v", ctx.Err())
			}
		}
		e.stats.queue.observe(since(start))
		defer func() { <-e.sem }()
	}
	return e.predict(ctx, req, batchRows(req))
}

func (e *entry) predict(ctx context.Context, req *Request, rows int64) (resp *Response, err error) {
	e.stats.busy.Add(1)
	defer e.stats.busy.Add(-1)
	e.stats.batch.observe(rows)
	defer func() {
		if r := recover(); r != nil {
			resp, err = nil, fmt.Errorf("model %s panicked: %v", e.md.Name, r)
		}
	}()
	resp, err = e.model.Predict(ctx, req)
	if err == nil && resp == nil {
		err = fmt.Errorf("model %s returned no response", e.md.Name)
	}
	return resp, err
}

// batchRows is the request's first dimension, the axis batching merges.
func batchRows(req *Request) int64 {
	if len(req.Inputs) == 0 || len(req.Inputs[0].Shape) == 0 {
		return 1
	}
	return req.Inputs[0].Shape[0]
}

// enqueue is called with e.arriving already counting this request.
func (e *entry) enqueue(ctx context.Context, req *Request) (*Response, error) {
	rows := batchRows(req)
	for i := range req.Inputs {
		sh := req.Inputs[i].Shape
		if len(sh) == 0 || sh[0] != rows {
			e.arriving.Add(-1)
			return nil, Errorf(http.StatusBadRequest, "model %s batches requests: every input needs the same first (batch) dimension", e.md.Name)
		}
	}
	if rows > int64(e.cfg.maxBatch) {
		e.arriving.Add(-1)
		return nil, Errorf(http.StatusBadRequest, "batch of %d rows exceeds the model's maximum batch size %d", rows, e.cfg.maxBatch)
	}
	p := &pending{req: req, rows: rows, enqueued: time.Now(), done: make(chan result, 1)}
	select {
	case e.queue <- p:
		e.arriving.Add(-1)
	default:
		e.arriving.Add(-1)
		return nil, errBusy
	}
	select {
	case r := <-p.done:
		return r.resp, r.err
	case <-ctx.Done():
		if p.state.CompareAndSwap(queued, gone) {
			return nil, Errorf(http.StatusServiceUnavailable, "request cancelled while queued: %v", ctx.Err())
		}
		return nil, Errorf(http.StatusServiceUnavailable, "request cancelled: %v", ctx.Err())
	case <-e.stop:
		if p.state.CompareAndSwap(queued, gone) {
			return nil, errDraining
		}
		// A worker has it; Close waits for the worker, so the answer comes.
		r := <-p.done
		return r.resp, r.err
	}
}

// batchWorker is one model instance under dynamic batching. It takes the
// oldest waiting request and adds whatever else arrives until the batch is
// full or the oldest request has waited maxDelay, so no request waits for
// a batch longer than that. Under load the queue already holds a full batch
// and nothing waits at all.
func (e *entry) batchWorker(stop <-chan struct{}) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var carry *pending
	batch := make([]*pending, 0, e.cfg.maxBatch)
	for {
		first := carry
		carry = nil
		if first == nil {
			select {
			case first = <-e.queue:
			case <-stop:
				return
			}
		}
		if !first.state.CompareAndSwap(queued, taken) {
			continue
		}
		batch = append(batch[:0], first)
		rows := first.rows
		deadline := first.enqueued.Add(e.cfg.maxDelay)
	fill:
		for rows < int64(e.cfg.maxBatch) {
			var p *pending
			select {
			case p = <-e.queue:
			default:
				// Waiting is only worth it if a request is on its way; a
				// lone client should not pay the delay on every call.
				wait := time.Until(deadline)
				if wait <= 0 || e.arriving.Load() == 0 {
					break fill
				}
				timer.Reset(wait)
				select {
				case p = <-e.queue:
					timer.Stop()
				case <-timer.C:
					break fill
				case <-stop:
					timer.Stop()
					break fill
				}
			}
			switch {
			case p.state.Load() != queued:
			case rows+p.rows > int64(e.cfg.maxBatch) || !mergeable(first.req, p.req):
				carry = p // still queued: the next batch starts with it
				break fill
			case p.state.CompareAndSwap(queued, taken):
				batch = append(batch, p)
				rows += p.rows
			}
		}
		e.runBatch(batch, rows)
		clear(batch)
	}
}

// mergeable reports whether two requests can share a Predict call: the
// same inputs in the same order with the same datatypes and trailing
// dimensions, and the same parameters.
func mergeable(a, b *Request) bool {
	if len(a.Inputs) != len(b.Inputs) {
		return false
	}
	for i := range a.Inputs {
		x, y := &a.Inputs[i], &b.Inputs[i]
		if x.Name != y.Name || x.Datatype != y.Datatype || len(x.Shape) != len(y.Shape) {
			return false
		}
		for d := 1; d < len(x.Shape); d++ {
			if x.Shape[d] != y.Shape[d] {
				return false
			}
		}
		if (len(x.Parameters) > 0 || len(y.Parameters) > 0) && !reflect.DeepEqual(x.Parameters, y.Parameters) {
			return false
		}
	}
	return (len(a.Parameters) == 0 && len(b.Parameters) == 0) || reflect.DeepEqual(a.Parameters, b.Parameters)
}

func (e *entry) runBatch(batch []*pending, rows int64) {
	now := time.Now()
	for _, p := range batch {
		e.stats.queue.observe(int64(now.Sub(p.enqueued)))
	}
	if len(batch) == 1 {
		p := batch[0]
		resp, err := e.predict(context.Background(), p.req, rows)
		p.done <- result{resp, err}
		return
	}
	first := batch[0].req
	merged := &Request{Parameters: first.Parameters, Inputs: make([]Tensor, len(first.Inputs))}
	parts := make([]any, len(batch))
	for i := range first.Inputs {
		n := 0
		for j, p := range batch {
			parts[j] = p.req.Inputs[i].Data
			n += dataLen(p.req.Inputs[i].Datatype, parts[j])
		}
		t := first.Inputs[i]
		t.Shape = append([]int64{rows}, t.Shape[1:]...)
		t.Data = concatData(parts, n)
		merged.Inputs[i] = t
	}
	resp, err := e.predict(context.Background(), merged, rows)
	if err != nil {
		for _, p := range batch {
			p.done <- result{err: err}
		}
		return
	}
	outs := make([][]Tensor, len(batch))
	for j := range batch {
		outs[j] = make([]Tensor, len(resp.Outputs))
	}
	for i := range resp.Outputs {
		t := &resp.Outputs[i]
		if err := t.check(); err != nil {
			for _, p := range batch {
				p.done <- result{err: fmt.Errorf("model %s: %v", e.md.Name, err)}
			}
			return
		}
		if len(t.Shape) == 0 || t.Shape[0] != rows {
			err := fmt.Errorf("model %s returned output %q of shape %v for a batch of %d rows", e.md.Name, t.Name, t.Shape, rows)
			for _, p := range batch {
				p.done <- result{err: err}
			}
			return
		}
		per := 0 // elements per row
		if rows > 0 {
			per = dataLen(t.Datatype, t.Data) / int(rows)
		}
		off := 0
		for j, p := range batch {
			o := *t
			o.Shape = append([]int64{p.rows}, t.Shape[1:]...)
			o.Data = sliceData(t.Data, off, off+int(p.rows)*per)
			off += int(p.rows) * per
			outs[j][i] = o
		}
	}
	for j, p := range batch {
		p.done <- result{resp: &Response{Parameters: resp.Parameters, Outputs: outs[j]}}
	}
}
