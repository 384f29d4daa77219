package serving

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// The request decoder is a hand-written JSON scanner: inference bodies are
// mostly long arrays of numbers, and decoding them straight into typed
// slices (instead of []any through encoding/json) is most of the server's
// speed. Free-form "parameters" objects are rare and go to encoding/json.

type scanner struct {
	b []byte
	i int
}

func (s *scanner) errf(format string, args ...any) error {
	return fmt.Errorf("invalid JSON at offset %d: %s", s.i, fmt.Sprintf(format, args...))
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek skips white space and returns the next byte, or 0 at the end.
func (s *scanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) expect(c byte) error {
	if s.peek() != c {
		if s.i >= len(s.b) {
			return s.errf("unexpected end of input, want %q", c)
		}
		return s.errf("want %q, got %q", c, s.b[s.i])
	}
	s.i++
	return nil
}

// object calls field for each key of a JSON object; field must consume the
// value.
func (s *scanner) object(field func(key []byte) error) error {
	if err := s.expect('{'); err != nil {
		return err
	}
	if s.peek() == '}' {
		s.i++
		return nil
	}
	for {
		if s.peek() != '"' {
			return s.errf("want object key")
		}
		key, err := s.str()
		if err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		s.ws()
		if err := field(key); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return s.errf("want ',' or '}' in object")
		}
	}
}

// array calls elem for each element of a JSON array; elem must consume it.
func (s *scanner) array(elem func() error) error {
	if err := s.expect('['); err != nil {
		return err
	}
	if s.peek() == ']' {
		s.i++
		return nil
	}
	for {
		s.ws()
		if err := elem(); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return s.errf("want ',' or ']' in array")
		}
	}
}

// str reads a JSON string. Without escapes it returns a slice of the input.
func (s *scanner) str() ([]byte, error) {
	if s.peek() != '"' {
		return nil, s.errf("want string")
	}
	s.i++
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c == '"' {
			s.i++
			return s.b[start : s.i-1], nil
		}
		if c == '\\' {
			return s.strSlow(start)
		}
		if c < 0x20 {
			return nil, s.errf("control character in string")
		}
		s.i++
	}
	return nil, s.errf("unterminated string")
}

func (s *scanner) strSlow(start int) ([]byte, error) {
	out := append([]byte(nil), s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return out, nil
		case c < 0x20:
			return nil, s.errf("control character in string")
		case c != '\\':
			out = append(out, c)
			s.i++
			continue
		}
		if s.i+1 >= len(s.b) {
			break
		}
		s.i++
		switch e := s.b[s.i]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := s.hex4(s.i + 1)
			if !ok {
				return nil, s.errf("bad \\u escape")
			}
			s.i += 4
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if s.i+2 < len(s.b) && s.b[s.i+1] == '\\' && s.b[s.i+2] == 'u' {
					r2, ok = s.hex4(s.i + 3)
				}
				if d := utf16.DecodeRune(r, r2); ok && d != utf8.RuneError {
					r = d
					s.i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, s.errf("bad escape \\%c", e)
		}
		s.i++
	}
	return nil, s.errf("unterminated string")
}

func (s *scanner) hex4(at int) (rune, bool) {
	if at+4 > len(s.b) {
		return 0, false
	}
	var r rune
	for _, c := range s.b[at : at+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// number reads a JSON number token, checking the JSON grammar (which is
// stricter than strconv's). integer reports the absence of fraction and
// exponent.
func (s *scanner) number() (tok []byte, integer bool, err error) {
	start := s.i
	b := s.b
	i := s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		s.i = i
		return nil, false, s.errf("want number")
	}
	integer = true
	if i < len(b) && b[i] == '.' {
		integer = false
		i++
		d := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == d {
			s.i = i
			return nil, false, s.errf("want digit after '.'")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		integer = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == d {
			s.i = i
			return nil, false, s.errf("want digit in exponent")
		}
	}
	s.i = i
	return b[start:i], integer, nil
}

func (s *scanner) literal(lit string) bool {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// skip consumes any JSON value, checking its syntax.
func (s *scanner) skip() error {
	return s.skipDepth(0)
}

func (s *scanner) skipDepth(depth int) error {
	if depth > maxDepth {
		return s.errf("nested too deeply")
	}
	switch c := s.peek(); {
	case c == '{':
		return s.object(func([]byte) error { return s.skipDepth(depth + 1) })
	case c == '[':
		return s.array(func() error { return s.skipDepth(depth + 1) })
	case c == '"':
		_, err := s.str()
		return err
	case c == 't':
		if s.literal("true") {
			return nil
		}
	case c == 'f':
		if s.literal("false") {
			return nil
		}
	case c == 'n':
		if s.literal("null") {
			return nil
		}
	case c == '-' || ('0' <= c && c <= '9'):
		_, _, err := s.number()
		return err
	case c == 0 && s.i >= len(s.b):
		return s.errf("unexpected end of input")
	}
	return s.errf("unexpected %q", s.b[s.i])
}

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 64

// span consumes a value and returns its bytes.
func (s *scanner) span() ([]byte, error) {
	s.ws()
	start := s.i
	if err := s.skip(); err != nil {
		return nil, err
	}
	return s.b[start:s.i], nil
}

func (s *scanner) end() error {
	if s.peek() != 0 || s.i < len(s.b) {
		return s.errf("unexpected data after top-level value")
	}
	return nil
}

func (s *scanner) params() (Parameters, error) {
	if s.peek() == 'n' && s.literal("null") {
		return nil, nil
	}
	if s.peek() != '{' {
		return nil, s.errf("parameters must be an object")
	}
	raw, err := s.span()
	if err != nil {
		return nil, err
	}
	var p Parameters
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("parameters: %v", err)
	}
	return p, nil
}

// bstr views b as a string for parsing; strconv copies what it keeps.
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

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

// data parses a tensor's data array at the scanner's position.
func (s *scanner) data(dt Datatype, want int) (data any, dims []int64, flat bool, err error) {
	if s.peek() != '[' {
		return nil, nil, false, fmt.Errorf("data must be an array")
	}
	// Each element takes at least two bytes ("1,"), so a shape larger than
	// the body cannot make us allocate much.
	if lim := (len(s.b)-s.i)/2 + 1; want > lim {
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
