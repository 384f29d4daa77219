package serving

import (
	"fmt"
	"math"
)

// Datatype names a tensor element type as the Open Inference Protocol spells it.
type Datatype string

// The datatypes of the Open Inference Protocol v2.
const (
	BOOL   Datatype = "BOOL"
	UINT8  Datatype = "UINT8"
	UINT16 Datatype = "UINT16"
	UINT32 Datatype = "UINT32"
	UINT64 Datatype = "UINT64"
	INT8   Datatype = "INT8"
	INT16  Datatype = "INT16"
	INT32  Datatype = "INT32"
	INT64  Datatype = "INT64"
	FP16   Datatype = "FP16"
	FP32   Datatype = "FP32"
	FP64   Datatype = "FP64"
	BF16   Datatype = "BF16"
	BYTES  Datatype = "BYTES"
)

// Valid reports whether d is one of the protocol's datatypes.
func (d Datatype) Valid() bool {
	switch d {
	case BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64,
		FP16, FP32, FP64, BF16, BYTES:
		return true
	}
	return false
}

// Parameters are the free-form "parameters" objects of requests, responses
// and tensors. Values are JSON values decoded as encoding/json does
// (string, float64, bool, nil, []any, map[string]any).
type Parameters map[string]any

// Tensor is one named input or output. Data holds the elements flat, in
// row-major order, as the Go slice type that matches Datatype:
//
//	BOOL []bool        UINT8 []uint8   UINT16 []uint16  UINT32 []uint32  UINT64 []uint64
//	INT8 []int8        INT16 []int16   INT32 []int32    INT64 []int64
//	FP32 []float32     FP64 []float64  BYTES [][]byte
//	FP16, BF16 []float32 (JSON has no half type; values are range checked)
type Tensor struct {
	Name       string
	Datatype   Datatype
	Shape      []int64
	Parameters Parameters
	Data       any
}

// NewTensor builds a tensor, taking the datatype from the Go type of data
// ([]float32 gives FP32). Use a Tensor literal for FP16 and BF16.
func NewTensor(name string, shape []int64, data any) Tensor {
	return Tensor{Name: name, Datatype: datatypeOf(data), Shape: shape, Data: data}
}

// FP32 returns the data of an FP32, FP16 or BF16 tensor, or nil.
func (t *Tensor) FP32() []float32 { v, _ := t.Data.([]float32); return v }

// FP64 returns the data of an FP64 tensor, or nil.
func (t *Tensor) FP64() []float64 { v, _ := t.Data.([]float64); return v }

// INT64 returns the data of an INT64 tensor, or nil.
func (t *Tensor) INT64() []int64 { v, _ := t.Data.([]int64); return v }

// INT32 returns the data of an INT32 tensor, or nil.
func (t *Tensor) INT32() []int32 { v, _ := t.Data.([]int32); return v }

// Bytes returns the data of a BYTES tensor, or nil.
func (t *Tensor) Bytes() [][]byte { v, _ := t.Data.([][]byte); return v }

// Bool returns the data of a BOOL tensor, or nil.
func (t *Tensor) Bool() []bool { v, _ := t.Data.([]bool); return v }

func datatypeOf(data any) Datatype {
	switch data.(type) {
	case []bool:
		return BOOL
	case []uint8:
		return UINT8
	case []uint16:
		return UINT16
	case []uint32:
		return UINT32
	case []uint64:
		return UINT64
	case []int8:
		return INT8
	case []int16:
		return INT16
	case []int32:
		return INT32
	case []int64:
		return INT64
	case []float32:
		return FP32
	case []float64:
		return FP64
	case [][]byte:
		return BYTES
	}
	return ""
}

// dataLen is the number of elements in a tensor's data, or -1 when Data
// does not have the Go type that Datatype calls for.
func dataLen(dt Datatype, data any) int {
	switch v := data.(type) {
	case []bool:
		if dt == BOOL {
			return len(v)
		}
	case []uint8:
		if dt == UINT8 {
			return len(v)
		}
	case []uint16:
		if dt == UINT16 {
			return len(v)
		}
	case []uint32:
		if dt == UINT32 {
			return len(v)
		}
	case []uint64:
		if dt == UINT64 {
			return len(v)
		}
	case []int8:
		if dt == INT8 {
			return len(v)
		}
	case []int16:
		if dt == INT16 {
			return len(v)
		}
	case []int32:
		if dt == INT32 {
			return len(v)
		}
	case []int64:
		if dt == INT64 {
			return len(v)
		}
	case []float32:
		if dt == FP32 || dt == FP16 || dt == BF16 {
			return len(v)
		}
	case []float64:
		if dt == FP64 {
			return len(v)
		}
	case [][]byte:
		if dt == BYTES {
			return len(v)
		}
	}
	return -1
}

// numElements is the product of shape, or -1 if a dimension is negative or
// the product overflows.
func numElements(shape []int64) int64 {
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return -1
		}
		if d != 0 && n > math.MaxInt32/d {
			return -1
		}
		n *= d
	}
	return n
}

// check verifies that the tensor is self-consistent: known datatype, data of
// the matching Go type and as many elements as the shape holds.
func (t *Tensor) check() error {
	if !t.Datatype.Valid() {
		return fmt.Errorf("tensor %q: unknown datatype %q", t.Name, t.Datatype)
	}
	n := dataLen(t.Datatype, t.Data)
	if n < 0 {
		return fmt.Errorf("tensor %q: datatype %s does not match data of Go type %T", t.Name, t.Datatype, t.Data)
	}
	if want := numElements(t.Shape); int64(n) != want {
		return fmt.Errorf("tensor %q: shape %v holds %d elements, data has %d", t.Name, t.Shape, want, n)
	}
	return nil
}

// sliceData returns elements [lo, hi) of data without copying.
func sliceData(data any, lo, hi int) any {
	switch v := data.(type) {
	case []bool:
		return v[lo:hi:hi]
	case []uint8:
		return v[lo:hi:hi]
	case []uint16:
		return v[lo:hi:hi]
	case []uint32:
		return v[lo:hi:hi]
	case []uint64:
		return v[lo:hi:hi]
	case []int8:
		return v[lo:hi:hi]
	case []int16:
		return v[lo:hi:hi]
	case []int32:
		return v[lo:hi:hi]
	case []int64:
		return v[lo:hi:hi]
	case []float32:
		return v[lo:hi:hi]
	case []float64:
		return v[lo:hi:hi]
	case [][]byte:
		return v[lo:hi:hi]
	}
	return nil
}

func concatT[T any](parts []any, n int) any {
	out := make([]T, 0, n)
	for _, p := range parts {
		out = append(out, p.([]T)...)
	}
	return out
}

// concatData joins data slices that all have the Go type of parts[0]; n is
// the total element count.
func concatData(parts []any, n int) any {
	switch parts[0].(type) {
	case []bool:
		return concatT[bool](parts, n)
	case []uint8:
		return concatT[uint8](parts, n)
	case []uint16:
		return concatT[uint16](parts, n)
	case []uint32:
		return concatT[uint32](parts, n)
	case []uint64:
		return concatT[uint64](parts, n)
	case []int8:
		return concatT[int8](parts, n)
	case []int16:
		return concatT[int16](parts, n)
	case []int32:
		return concatT[int32](parts, n)
	case []int64:
		return concatT[int64](parts, n)
	case []float32:
		return concatT[float32](parts, n)
	case []float64:
		return concatT[float64](parts, n)
	case [][]byte:
		return concatT[[]byte](parts, n)
	}
	return nil
}
