package serving

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecodeRequest checks the hand-written decoder against encoding/json:
// whatever it accepts must be valid JSON, decode to self-consistent tensors,
// and carry the same id, names and element values that encoding/json reads.
func FuzzDecodeRequest(f *testing.F) {
	for _, seed := range []string{
		`{"id":"a","inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","data":[[1,2.5],[3e2,-4]]}]}`,
		`{"inputs":[{"data":[true,false],"datatype":"BOOL","shape":[2],"name":"b"}],"outputs":[{"name":"o"}]}`,
		`{"inputs":[{"name":"s","shape":[1],"datatype":"BYTES","data":["h\u00e9\ud83d\ude00\n"]}],"parameters":{"k":[1]}}`,
		`{"inputs":[{"name":"i","shape":[3],"datatype":"INT8","data":[-128,0,127]}]}`,
		`{"inputs":[{"name":"u","shape":[1,1],"datatype":"UINT64","data":[[18446744073709551615]]}]}`,
		`{"inputs":[{"name":"h","shape":[0,3],"datatype":"FP16","data":[]}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req Request
		if err := decodeRequest(body, &req); err != nil {
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		for i := range req.Inputs {
			if err := req.Inputs[i].check(); err != nil {
				t.Fatalf("accepted inconsistent tensor: %v", err)
			}
		}
		if !utf8.Valid(body) || bytes.Contains(body, []byte(`\u`)) {
			return // encoding/json rewrites invalid UTF-8 and surrogates differently
		}
		var ref map[string]any
		d := json.NewDecoder(bytes.NewReader(body))
		d.UseNumber()
		if err := d.Decode(&ref); err != nil {
			t.Fatalf("encoding/json rejects what we accept: %v", err)
		}
		if id, _ := ref["id"].(string); id != req.ID {
			t.Fatalf("id %q, encoding/json reads %q", req.ID, id)
		}
		inputs, _ := ref["inputs"].([]any)
		if len(inputs) != len(req.Inputs) {
			t.Fatalf("%d inputs, encoding/json reads %d", len(req.Inputs), len(inputs))
		}
		for i, in := range inputs {
			m := in.(map[string]any)
			got := &req.Inputs[i]
			if m["name"] != got.Name || m["datatype"] != string(got.Datatype) {
				t.Fatalf("input %d: %q %q, encoding/json reads %v %v", i, got.Name, got.Datatype, m["name"], m["datatype"])
			}
			var flat []any
			flatten(m["data"], &flat)
			if len(flat) != dataLen(got.Datatype, got.Data) {
				t.Fatalf("input %q: %d elements, encoding/json reads %d", got.Name, dataLen(got.Datatype, got.Data), len(flat))
			}
			for j, v := range flat {
				if want, have := refElem(got.Datatype, v), fmt.Sprint(elemAt(got.Data, j)); want != have {
					t.Fatalf("input %q element %d: %s, encoding/json reads %s", got.Name, j, have, want)
				}
			}
		}
	})
}

func flatten(v any, out *[]any) {
	if a, ok := v.([]any); ok {
		for _, e := range a {
			flatten(e, out)
		}
		return
	}
	*out = append(*out, v)
}

// refElem formats a value decoded by encoding/json as the decoder should
// hold it for datatype dt.
func refElem(dt Datatype, v any) string {
	n, ok := v.(json.Number)
	if !ok {
		if s, ok := v.(string); ok {
			return fmt.Sprint([]byte(s))
		}
		return fmt.Sprint(v)
	}
	switch dt {
	case FP32, FP16, BF16:
		f, _ := strconv.ParseFloat(string(n), 32)
		return fmt.Sprint(float32(f))
	case FP64:
		f, _ := strconv.ParseFloat(string(n), 64)
		return fmt.Sprint(f)
	}
	return string(n)
}

func elemAt(data any, i int) any {
	switch v := data.(type) {
	case []bool:
		return v[i]
	case []uint8:
		return v[i]
	case []uint16:
		return v[i]
	case []uint32:
		return v[i]
	case []uint64:
		return v[i]
	case []int8:
		return v[i]
	case []int16:
		return v[i]
	case []int32:
		return v[i]
	case []int64:
		return v[i]
	case []float32:
		return v[i]
	case []float64:
		return v[i]
	case [][]byte:
		return v[i]
	}
	return nil
}

// FuzzDecodeInstances checks the KServe v1 decoder: accepted input is
// valid JSON and the inferred shape holds exactly the decoded elements.
func FuzzDecodeInstances(f *testing.F) {
	f.Add([]byte(`{"instances":[[1,2],[3,4]]}`), "FP32")
	f.Add([]byte(`{"instances":[["a"],["b"]]}`), "BYTES")
	f.Add([]byte(`{"instances":[[[true]]]}`), "BOOL")
	f.Fuzz(func(t *testing.T, body []byte, dt string) {
		if !Datatype(dt).Valid() {
			return
		}
		tensor, err := decodeInstances(body, "x", Datatype(dt))
		if err != nil {
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		if err := tensor.check(); err != nil {
			t.Fatalf("inconsistent tensor from %q: %v", body, err)
		}
	})
}

// FuzzAppendString: the encoder's strings are valid JSON and read back as
// the original (invalid UTF-8 becomes U+FFFD, as with encoding/json).
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "q\"b\\s\n\t\x01", "é😀", "\xff\xfe ok \u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendString(nil, []byte(s))
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q encodes to invalid JSON %s: %v", s, b, err)
		}
		if want := strings.ToValidUTF8(s, "\uFFFD"); utf8.ValidString(s) && got != want {
			t.Fatalf("%q reads back as %q", s, got)
		}
		var ref string
		raw, _ := json.Marshal(s)
		json.Unmarshal(raw, &ref)
		if got != ref {
			t.Fatalf("%q reads back as %q, encoding/json gives %q", s, got, ref)
		}
	})
}
