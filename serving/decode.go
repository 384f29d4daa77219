package serving

import (
	"fmt"
	"math"
	"strconv"
)

// decodeRequest decodes an Open Inference Protocol v2 inference request.
func decodeRequest(body []byte, req *Request) error {
	s := &scanner{b: body}
	err := s.object(func(key []byte) error {
		switch string(key) {
		case "id":
			if s.peek() != '"' {
				return fmt.Errorf("\"id\" must be a string")
			}
			id, err := s.str()
			req.ID = string(id)
			return err
		case "parameters":
			p, err := s.params()
			req.Parameters = p
			return err
		case "inputs":
			req.Inputs = req.Inputs[:0] // a repeated key replaces, as in encoding/json
			return s.array(func() error {
				var t Tensor
				if err := s.tensor(&t); err != nil {
					return err
				}
				req.Inputs = append(req.Inputs, t)
				return nil
			})
		case "outputs":
			req.Outputs = req.Outputs[:0]
			return s.array(func() error {
				var o RequestedOutput
				seen := false
				err := s.object(func(key []byte) error {
					switch string(key) {
					case "name":
						n, err := s.str()
						o.Name, seen = string(n), true
						return err
					case "parameters":
						p, err := s.params()
						o.Parameters = p
						return err
					}
					return s.skip()
				})
				if err == nil && !seen {
					err = fmt.Errorf("requested output without a name")
				}
				req.Outputs = append(req.Outputs, o)
				return err
			})
		}
		return s.skip()
	})
	if err != nil {
		return err
	}
	if err := s.end(); err != nil {
		return err
	}
	if len(req.Inputs) == 0 {
		return fmt.Errorf("request has no inputs")
	}
	return nil
}

func (s *scanner) tensor(t *Tensor) error {
	var data []byte // raw data, when it came before datatype or shape
	var parsed any  // data decoded in place
	var dims []int64
	var flat bool
	haveShape, haveName := false, false
	err := s.object(func(key []byte) error {
		switch string(key) {
		case "name":
			n, err := s.str()
			t.Name, haveName = string(n), true
			return err
		case "datatype":
			d, err := s.str()
			t.Datatype = Datatype(d)
			return err
		case "shape":
			haveShape = true
			t.Shape = t.Shape[:0]
			return s.array(func() error {
				tok, integer, err := s.number()
				if err != nil {
					return err
				}
				v, perr := strconv.ParseInt(bstr(tok), 10, 64)
				if !integer || perr != nil || v < 0 {
					return fmt.Errorf("shape dimensions must be non-negative integers, got %s", tok)
				}
				t.Shape = append(t.Shape, v)
				return nil
			})
		case "parameters":
			p, err := s.params()
			t.Parameters = p
			return err
		case "data":
			if t.Datatype.Valid() && haveShape {
				// The usual key order: decode in place, no second pass.
				n := numElements(t.Shape)
				if n < 0 {
					return fmt.Errorf("input %q: shape %v is too large", t.Name, t.Shape)
				}
				var err error
				parsed, dims, flat, err = s.data(t.Datatype, int(n))
				if err != nil {
					return fmt.Errorf("input %q: %v", t.Name, err)
				}
				data = nil
				return nil
			}
			var err error
			data, err = s.span()
			parsed = nil
			return err
		}
		return s.skip()
	})
	if err != nil {
		return err
	}
	switch {
	case !haveName:
		return fmt.Errorf("input tensor without a name")
	case t.Datatype == "":
		return fmt.Errorf("input %q: missing datatype", t.Name)
	case !t.Datatype.Valid():
		return fmt.Errorf("input %q: unknown datatype %q", t.Name, t.Datatype)
	case !haveShape:
		return fmt.Errorf("input %q: missing shape", t.Name)
	case data == nil && parsed == nil:
		return fmt.Errorf("input %q: missing data", t.Name)
	}
	n := numElements(t.Shape)
	if n < 0 {
		return fmt.Errorf("input %q: shape %v is too large", t.Name, t.Shape)
	}
	d := parsed
	if parsed == nil || data != nil {
		var err error
		if d, dims, flat, err = parseData(data, t.Datatype, int(n)); err != nil {
			return fmt.Errorf("input %q: %v", t.Name, err)
		}
	}
	if err := checkShape(t.Shape, n, dims, flat, dataLen(t.Datatype, d)); err != nil {
		return fmt.Errorf("input %q: %v", t.Name, err)
	}
	t.Data = d
	return nil
}

// checkShape compares data against the declared shape: flat data must hold
// as many elements as the shape, nested data must nest exactly like it.
func checkShape(shape []int64, n int64, dims []int64, flat bool, count int) error {
	if flat || len(dims) <= 1 {
		if int64(count) != n {
			return fmt.Errorf("shape %v holds %d elements, data has %d", shape, n, count)
		}
		return nil
	}
	if len(dims) != len(shape) {
		return fmt.Errorf("data nested %d deep does not match shape %v", len(dims), shape)
	}
	for i := range dims {
		if dims[i] != shape[i] {
			return fmt.Errorf("data of shape %v does not match shape %v", dims, shape)
		}
	}
	return nil
}

// dataWalker flattens a (possibly nested) JSON array, learning the size of
// each nesting level and insisting that the nesting is regular.
type dataWalker struct {
	s         *scanner
	dims      []int64 // size of each level, -1 until the first array there closes
	leafDepth int     // depth of scalars, 0 until the first one
	count     int
}

func (w *dataWalker) walk(depth int, elem func() error) error {
	if depth > maxDepth {
		return w.s.errf("data nested too deeply")
	}
	if len(w.dims) < depth {
		w.dims = append(w.dims, -1)
	}
	n := int64(0)
	err := w.s.array(func() error {
		n++
		if w.s.peek() == '[' {
			if w.leafDepth != 0 && depth+1 > w.leafDepth {
				return fmt.Errorf("data mixes arrays and values at depth %d", depth)
			}
			return w.walk(depth+1, elem)
		}
		if w.leafDepth == 0 {
			if len(w.dims) > depth {
				// An array (even an empty one) came first at this depth.
				return fmt.Errorf("data mixes arrays and values at depth %d", depth)
			}
			w.leafDepth = depth
		} else if w.leafDepth != depth {
			return fmt.Errorf("data mixes arrays and values at depth %d", depth)
		}
		w.count++
		return elem()
	})
	if err != nil {
		return err
	}
	switch d := &w.dims[depth-1]; {
	case *d == -1:
		*d = n
	case *d != n:
		return fmt.Errorf("ragged data: arrays of %d and %d elements at depth %d", *d, n, depth)
	}
	return nil
}

// parseData decodes the "data" value of a tensor into the Go slice type of
// dt. want is the element count the shape declares (a capacity hint,
// bounded by the input size). It returns the nesting dims and whether the
// data was flat.
func parseData(raw []byte, dt Datatype, want int) (data any, dims []int64, flat bool, err error) {
	s := &scanner{b: raw}
	data, dims, flat, err = s.data(dt, want)
	if err == nil {
		err = s.end()
	}
	return data, dims, flat, err
}

// elemSize is the bytes one element of dt takes in its Go slice.
func elemSize(dt Datatype) int {
	switch dt {
	case BOOL, UINT8, INT8:
		return 1
	case UINT16, INT16:
		return 2
	case UINT32, INT32, FP32, FP16, BF16: // half types are held as float32
		return 4
	case BYTES:
		return 24
	}
	return 8
}

// data parses a tensor's data array at the scanner's position.
func (s *scanner) data(dt Datatype, want int) (data any, dims []int64, flat bool, err error) {
	if s.peek() != '[' {
		return nil, nil, false, fmt.Errorf("data must be an array")
	}
	// Each element takes at least two bytes ("1,"), so a shape larger than
	// the body cannot make us allocate much; and a hint never reserves more
	// than the body's remaining bytes (a 24-byte []byte header per
	// BYTES element would otherwise turn 4 MiB into 50). Past the hint,
	// slices grow with the data actually there.
	rest := len(s.b) - s.i
	if lim := rest/2 + 1; want > lim {
		want = lim
	}
	if lim := rest/elemSize(dt) + 1; want > lim {
		want = lim
	}
	w := &dataWalker{s: s}
	walk := func(elem func() error) error { return w.walk(1, elem) }
	switch dt {
	case BOOL:
		out := make([]bool, 0, want)
		err = walk(func() error {
			switch {
			case s.literal("true"):
				out = append(out, true)
			case s.literal("false"):
				out = append(out, false)
			default:
				return fmt.Errorf("BOOL data must be true or false at offset %d", s.i)
			}
			return nil
		})
		data = out
	case UINT8:
		data, err = parseUints[uint8](s, walk, want, 8, dt)
	case UINT16:
		data, err = parseUints[uint16](s, walk, want, 16, dt)
	case UINT32:
		data, err = parseUints[uint32](s, walk, want, 32, dt)
	case UINT64:
		data, err = parseUints[uint64](s, walk, want, 64, dt)
	case INT8:
		data, err = parseInts[int8](s, walk, want, 8, dt)
	case INT16:
		data, err = parseInts[int16](s, walk, want, 16, dt)
	case INT32:
		data, err = parseInts[int32](s, walk, want, 32, dt)
	case INT64:
		data, err = parseInts[int64](s, walk, want, 64, dt)
	case FP32, FP16, BF16:
		limit := math.Inf(1)
		switch dt {
		case FP16:
			limit = 65520 // values at or above round to infinity in half precision
		case BF16:
			limit = 3.3961776e38
		}
		out := make([]float32, 0, want)
		err = walk(func() error {
			tok, _, err := s.number()
			if err != nil {
				return err
			}
			v, err := strconv.ParseFloat(bstr(tok), 32)
			if err != nil || math.Abs(v) >= limit {
				return fmt.Errorf("value %s out of range for %s", tok, dt)
			}
			out = append(out, float32(v))
			return nil
		})
		data = out
	case FP64:
		out := make([]float64, 0, want)
		err = walk(func() error {
			tok, _, err := s.number()
			if err != nil {
				return err
			}
			v, err := strconv.ParseFloat(bstr(tok), 64)
			if err != nil {
				return fmt.Errorf("value %s out of range for FP64", tok)
			}
			out = append(out, v)
			return nil
		})
		data = out
	case BYTES:
		out := make([][]byte, 0, want)
		err = walk(func() error {
			if s.peek() != '"' {
				return fmt.Errorf("BYTES data must be strings at offset %d", s.i)
			}
			v, err := s.str()
			if err != nil {
				return err
			}
			// Copy: the body buffer is reused after the response is sent,
			// and a model may keep what it was given.
			out = append(out, append([]byte{}, v...))
			return nil
		})
		data = out
	default:
		return nil, nil, false, fmt.Errorf("unknown datatype %q", dt)
	}
	if err != nil {
		return nil, nil, false, err
	}
	return data, w.dims, w.leafDepth <= 1, nil
}

type unsigned interface {
	~uint8 | ~uint16 | ~uint32 | ~uint64
}

type signed interface {
	~int8 | ~int16 | ~int32 | ~int64
}

func parseUints[T unsigned](s *scanner, walk func(func() error) error, want, bits int, dt Datatype) ([]T, error) {
	out := make([]T, 0, want)
	err := walk(func() error {
		tok, integer, err := s.number()
		if err != nil {
			return err
		}
		v, perr := strconv.ParseUint(bstr(tok), 10, bits)
		if !integer || perr != nil {
			return fmt.Errorf("value %s is not a %s", tok, dt)
		}
		out = append(out, T(v))
		return nil
	})
	return out, err
}

func parseInts[T signed](s *scanner, walk func(func() error) error, want, bits int, dt Datatype) ([]T, error) {
	out := make([]T, 0, want)
	err := walk(func() error {
		tok, integer, err := s.number()
		if err != nil {
			return err
		}
		v, perr := strconv.ParseInt(bstr(tok), 10, bits)
		if !integer || perr != nil {
			return fmt.Errorf("value %s is not an %s", tok, dt)
		}
		out = append(out, T(v))
		return nil
	})
	return out, err
}

// decodeInstances decodes a KServe v1 predict body {"instances": [...]}
// into one tensor of datatype dt whose shape is the nesting of instances.
func decodeInstances(body []byte, name string, dt Datatype) (Tensor, error) {
	s := &scanner{b: body}
	var raw []byte
	err := s.object(func(key []byte) error {
		if string(key) == "instances" {
			var err error
			raw, err = s.span()
			return err
		}
		return s.skip()
	})
	if err == nil {
		err = s.end()
	}
	if err != nil {
		return Tensor{}, err
	}
	if raw == nil {
		return Tensor{}, fmt.Errorf("request has no \"instances\"")
	}
	data, dims, _, err := parseData(raw, dt, len(raw)/2+1)
	if err != nil {
		return Tensor{}, fmt.Errorf("instances: %v", err)
	}
	return Tensor{Name: name, Datatype: dt, Shape: dims, Data: data}, nil
}
