package serving

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// Responses are appended to a reused buffer by hand for the same reason
// requests are decoded by hand: numeric tensors dominate.

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// as encoding/json does, so the output is always valid JSON.
func appendString[S string | []byte](b []byte, s S) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendFloat(b []byte, v float64, bits int) ([]byte, error) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return b, fmt.Errorf("output contains %v, which JSON cannot carry", v)
	}
	return strconv.AppendFloat(b, v, 'g', -1, bits), nil
}

// appendElem appends element i of data.
func appendElem(b []byte, data any, i int) ([]byte, error) {
	switch v := data.(type) {
	case []float32:
		return appendFloat(b, float64(v[i]), 32)
	case []float64:
		return appendFloat(b, v[i], 64)
	case []bool:
		return strconv.AppendBool(b, v[i]), nil
	case []uint8:
		return strconv.AppendUint(b, uint64(v[i]), 10), nil
	case []uint16:
		return strconv.AppendUint(b, uint64(v[i]), 10), nil
	case []uint32:
		return strconv.AppendUint(b, uint64(v[i]), 10), nil
	case []uint64:
		return strconv.AppendUint(b, v[i], 10), nil
	case []int8:
		return strconv.AppendInt(b, int64(v[i]), 10), nil
	case []int16:
		return strconv.AppendInt(b, int64(v[i]), 10), nil
	case []int32:
		return strconv.AppendInt(b, int64(v[i]), 10), nil
	case []int64:
		return strconv.AppendInt(b, v[i], 10), nil
	case [][]byte:
		return appendString(b, v[i]), nil
	}
	return b, fmt.Errorf("unsupported data type %T", data)
}

// appendFlat appends data as a flat JSON array.
func appendFlat(b []byte, data any) ([]byte, error) {
	b = append(b, '[')
	// The common case gets a loop without the type switch per element.
	if v, ok := data.([]float32); ok {
		for i, x := range v {
			if i > 0 {
				b = append(b, ',')
			}
			f := float64(x)
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return b, fmt.Errorf("output contains %v, which JSON cannot carry", f)
			}
			b = strconv.AppendFloat(b, f, 'g', -1, 32)
		}
		return append(b, ']'), nil
	}
	n := dataLen(datatypeOf(data), data)
	var err error
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = appendElem(b, data, i); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

// appendNested appends data as JSON arrays nested like shape (KServe v1
// "predictions" are rows, not flat data).
func appendNested(b []byte, data any, shape []int64, off int) ([]byte, int, error) {
	if len(shape) == 0 {
		b, err := appendElem(b, data, off)
		return b, off + 1, err
	}
	b = append(b, '[')
	var err error
	for i := int64(0); i < shape[0]; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		if b, off, err = appendNested(b, data, shape[1:], off); err != nil {
			return b, off, err
		}
	}
	return append(b, ']'), off, nil
}

func appendParams(b []byte, p Parameters) ([]byte, error) {
	raw, err := json.Marshal(p)
	if err != nil {
		return b, fmt.Errorf("parameters: %v", err)
	}
	return append(b, raw...), nil
}

func appendShape(b []byte, shape []int64) []byte {
	b = append(b, '[')
	for i, d := range shape {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, d, 10)
	}
	return append(b, ']')
}

// appendResponse appends a v2 inference response.
func appendResponse(b []byte, model, version, id string, resp *Response) ([]byte, error) {
	b = append(b, `{"model_name":`...)
	b = appendString(b, model)
	if version != "" {
		b = append(b, `,"model_version":`...)
		b = appendString(b, version)
	}
	if id != "" {
		b = append(b, `,"id":`...)
		b = appendString(b, id)
	}
	var err error
	if len(resp.Parameters) > 0 {
		b = append(b, `,"parameters":`...)
		if b, err = appendParams(b, resp.Parameters); err != nil {
			return b, err
		}
	}
	b = append(b, `,"outputs":[`...)
	for i := range resp.Outputs {
		t := &resp.Outputs[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = appendString(b, t.Name)
		b = append(b, `,"datatype":`...)
		b = appendString(b, string(t.Datatype))
		b = append(b, `,"shape":`...)
		b = appendShape(b, t.Shape)
		if len(t.Parameters) > 0 {
			b = append(b, `,"parameters":`...)
			if b, err = appendParams(b, t.Parameters); err != nil {
				return b, err
			}
		}
		b = append(b, `,"data":`...)
		if b, err = appendFlat(b, t.Data); err != nil {
			return b, fmt.Errorf("output %q: %v", t.Name, err)
		}
		b = append(b, '}')
	}
	return append(b, "]}"...), nil
}

// appendError appends {"error": msg}.
func appendError(b []byte, msg string) []byte {
	b = append(b, `{"error":`...)
	b = appendString(b, msg)
	return append(b, '}')
}
