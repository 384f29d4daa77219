// Package eval evaluates the simple expressions of inspection cells
// (fmt.Println(x), len(data), m.w[0], a literal) in the kernel's host
// process with reflection, so that such a cell answers at once instead of
// being compiled and linked as a plugin. It supports a small, exact subset
// of Go: anything else is refused with ErrUnsupported before anything runs,
// and the kernel then compiles the cell as usual. Values are the notebook's
// own variables, so what it prints is what the compiled cell would print.
package eval

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"strconv"
)

// ErrUnsupported says the expression needs the compiler.
var ErrUnsupported = errors.New("eval: not a simple expression")

// Prefix is what the kernel prepends to unexported names (struct fields
// become exported, since later cells are other packages).
const Prefix = "Ξ"

// Expr is a checked expression, ready to run.
type Expr struct {
	run func() (reflect.Value, error)
	// Prints is set for a call to fmt.Print, Println or Printf: its output
	// is the cell's, and it has no result to show.
	Prints bool
	// Void is set when the expression has no value (a Print call).
	Void bool
}

// Panic is a run-time error the compiled cell would have panicked with.
type Panic struct{ Msg string }

func (p *Panic) Error() string { return "runtime error: " + p.Msg }

// Compile parses src and checks that every part of it is supported. vars
// maps the notebook's variable names to pointers to them.
func Compile(src string, vars map[string]any) (*Expr, error) {
	x, err := parser.ParseExpr(src)
	if err != nil {
		return nil, ErrUnsupported
	}
	c := &compiler{vars: vars}
	e := &Expr{}
	if call, ok := x.(*ast.CallExpr); ok {
		if name, ok := c.fmtFunc(call); ok && (name == "Print" || name == "Println" || name == "Printf") {
			e.Prints, e.Void = true, true
		}
	}
	f, _, err := c.expr(x)
	if err != nil {
		return nil, err
	}
	e.run = f
	return e, nil
}

// Run evaluates the expression.
func (e *Expr) Run() (v any, err error) {
	r, err := e.run()
	if err != nil || e.Void || !r.IsValid() {
		return nil, err
	}
	return r.Interface(), nil
}

type compiler struct{ vars map[string]any }

type thunk = func() (reflect.Value, error)

// expr returns a function computing x and x's static type.
func (c *compiler) expr(x ast.Expr) (thunk, reflect.Type, error) {
	switch x := x.(type) {
	case *ast.ParenExpr:
		return c.expr(x.X)
	case *ast.BasicLit:
		v, err := literal(x)
		if err != nil {
			return nil, nil, err
		}
		return func() (reflect.Value, error) { return v, nil }, v.Type(), nil
	case *ast.Ident:
		switch x.Name {
		case "true", "false":
			v := reflect.ValueOf(x.Name == "true")
			return func() (reflect.Value, error) { return v, nil }, v.Type(), nil
		}
		p, ok := c.vars[x.Name]
		if !ok {
			return nil, nil, ErrUnsupported
		}
		pv := reflect.ValueOf(p)
		if pv.Kind() != reflect.Pointer || pv.IsNil() {
			return nil, nil, ErrUnsupported
		}
		return func() (reflect.Value, error) { return pv.Elem(), nil }, pv.Type().Elem(), nil
	case *ast.StarExpr:
		f, t, err := c.expr(x.X)
		if err != nil || t.Kind() != reflect.Pointer {
			return nil, nil, ErrUnsupported
		}
		return func() (reflect.Value, error) {
			v, err := f()
			if err != nil {
				return v, err
			}
			if v.IsNil() {
				return v, &Panic{"invalid memory address or nil pointer dereference"}
			}
			return v.Elem(), nil
		}, t.Elem(), nil
	case *ast.SelectorExpr:
		return c.field(x)
	case *ast.IndexExpr:
		return c.index(x)
	case *ast.CallExpr:
		return c.call(x)
	}
	return nil, nil, ErrUnsupported
}

func literal(x *ast.BasicLit) (reflect.Value, error) {
	switch x.Kind {
	case token.INT:
		n, err := strconv.ParseInt(x.Value, 0, strconv.IntSize)
		if err != nil {
			return reflect.Value{}, ErrUnsupported
		}
		return reflect.ValueOf(int(n)), nil
	case token.FLOAT:
		f, err := strconv.ParseFloat(x.Value, 64)
		if err != nil {
			return reflect.Value{}, ErrUnsupported
		}
		return reflect.ValueOf(f), nil
	case token.STRING:
		s, err := strconv.Unquote(x.Value)
		if err != nil {
			return reflect.Value{}, ErrUnsupported
		}
		return reflect.ValueOf(s), nil
	case token.CHAR:
		s, err := strconv.Unquote(x.Value)
		if err != nil {
			return reflect.Value{}, ErrUnsupported
		}
		r := []rune(s)
		if len(r) != 1 {
			return reflect.Value{}, ErrUnsupported
		}
		return reflect.ValueOf(r[0]), nil
	}
	return reflect.Value{}, ErrUnsupported
}

// field resolves x.Name to a struct field (through pointers, as Go does);
// methods and package members are left to the compiler.
func (c *compiler) field(x *ast.SelectorExpr) (thunk, reflect.Type, error) {
	f, t, err := c.expr(x.X)
	if err != nil {
		return nil, nil, err
	}
	st := t
	ptr := false
	if st.Kind() == reflect.Pointer {
		st, ptr = st.Elem(), true
	}
	if st.Kind() != reflect.Struct {
		return nil, nil, ErrUnsupported
	}
	sf, ok := st.FieldByName(Prefix + x.Sel.Name)
	if !ok {
		if sf, ok = st.FieldByName(x.Sel.Name); !ok || !sf.IsExported() {
			return nil, nil, ErrUnsupported
		}
	}
	// Every field on the way must be exported for reflection to read it
	// (a field promoted through an unexported embedded struct is not).
	walk := st
	for _, n := range sf.Index {
		if walk.Kind() == reflect.Pointer {
			walk = walk.Elem()
		}
		if !walk.Field(n).IsExported() {
			return nil, nil, ErrUnsupported
		}
		walk = walk.Field(n).Type
	}
	return func() (reflect.Value, error) {
		v, err := f()
		if err != nil {
			return v, err
		}
		if ptr {
			if v.IsNil() {
				return v, &Panic{"invalid memory address or nil pointer dereference"}
			}
			v = v.Elem()
		}
		for i, n := range sf.Index {
			if i > 0 && v.Kind() == reflect.Pointer {
				if v.IsNil() {
					return v, &Panic{"invalid memory address or nil pointer dereference"}
				}
				v = v.Elem()
			}
			v = v.Field(n)
		}
		return v, nil
	}, sf.Type, nil
}

func (c *compiler) index(x *ast.IndexExpr) (thunk, reflect.Type, error) {
	f, t, err := c.expr(x.X)
	if err != nil {
		return nil, nil, err
	}
	kf, kt, err := c.expr(x.Index)
	if err != nil {
		return nil, nil, err
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array, reflect.String:
		if kt.Kind() != reflect.Int {
			return nil, nil, ErrUnsupported
		}
		et := reflect.TypeFor[byte]()
		if t.Kind() != reflect.String {
			et = t.Elem()
		}
		return func() (reflect.Value, error) {
			v, err := f()
			if err != nil {
				return v, err
			}
			k, err := kf()
			if err != nil {
				return k, err
			}
			i := int(k.Int())
			if i < 0 || i >= v.Len() {
				return v, &Panic{fmt.Sprintf("index out of range [%d] with length %d", i, v.Len())}
			}
			return v.Index(i), nil
		}, et, nil
	case reflect.Map:
		if !kt.ConvertibleTo(t.Key()) || (kt.Kind() != t.Key().Kind() && kt != t.Key()) {
			return nil, nil, ErrUnsupported
		}
		return func() (reflect.Value, error) {
			v, err := f()
			if err != nil {
				return v, err
			}
			k, err := kf()
			if err != nil {
				return k, err
			}
			r := v.MapIndex(k.Convert(t.Key()))
			if !r.IsValid() {
				r = reflect.Zero(t.Elem())
			}
			return r, nil
		}, t.Elem(), nil
	}
	return nil, nil, ErrUnsupported
}

// fmtFunc is the name of the fmt function call calls, unless the notebook
// has a variable named fmt (then fmt.X is that variable's, as compiled Go
// would have it).
func (c *compiler) fmtFunc(call *ast.CallExpr) (string, bool) {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return "", false
	}
	pkg, ok := sel.X.(*ast.Ident)
	if _, shadowed := c.vars["fmt"]; !ok || pkg.Name != "fmt" || shadowed {
		return "", false
	}
	return sel.Sel.Name, true
}

var (
	stringType = reflect.TypeFor[string]()
	intType    = reflect.TypeFor[int]()
	voidType   = reflect.TypeFor[struct{}]()
)

func (c *compiler) call(x *ast.CallExpr) (thunk, reflect.Type, error) {
	if x.Ellipsis.IsValid() {
		return nil, nil, ErrUnsupported
	}
	args := make([]thunk, len(x.Args))
	types := make([]reflect.Type, len(x.Args))
	for i, a := range x.Args {
		f, t, err := c.expr(a)
		if err != nil {
			return nil, nil, err
		}
		args[i], types[i] = f, t
	}
	values := func() ([]any, error) {
		out := make([]any, len(args))
		for i, f := range args {
			v, err := f()
			if err != nil {
				return nil, err
			}
			out[i] = v.Interface()
		}
		return out, nil
	}
	if id, ok := x.Fun.(*ast.Ident); ok && (id.Name == "len" || id.Name == "cap") && len(args) == 1 {
		switch types[0].Kind() {
		case reflect.Slice, reflect.Array, reflect.Chan:
		case reflect.String, reflect.Map:
			if id.Name == "cap" {
				return nil, nil, ErrUnsupported
			}
		default:
			return nil, nil, ErrUnsupported
		}
		return func() (reflect.Value, error) {
			v, err := args[0]()
			if err != nil {
				return v, err
			}
			if id.Name == "cap" {
				return reflect.ValueOf(v.Cap()), nil
			}
			return reflect.ValueOf(v.Len()), nil
		}, intType, nil
	}
	name, ok := c.fmtFunc(x)
	if !ok {
		return nil, nil, ErrUnsupported
	}
	format := func() (string, []any, error) {
		vs, err := values()
		if err != nil {
			return "", nil, err
		}
		return vs[0].(string), vs[1:], nil
	}
	if (name == "Printf" || name == "Sprintf") && (len(types) == 0 || types[0] != stringType) {
		return nil, nil, ErrUnsupported
	}
	switch name {
	case "Print", "Println":
		return func() (reflect.Value, error) {
			vs, err := values()
			if err != nil {
				return reflect.Value{}, err
			}
			if name == "Print" {
				fmt.Fprint(os.Stdout, vs...)
			} else {
				fmt.Fprintln(os.Stdout, vs...)
			}
			return reflect.Value{}, nil
		}, voidType, nil
	case "Printf":
		return func() (reflect.Value, error) {
			f, vs, err := format()
			if err != nil {
				return reflect.Value{}, err
			}
			fmt.Fprintf(os.Stdout, f, vs...)
			return reflect.Value{}, nil
		}, voidType, nil
	case "Sprint", "Sprintln":
		return func() (reflect.Value, error) {
			vs, err := values()
			if err != nil {
				return reflect.Value{}, err
			}
			if name == "Sprint" {
				return reflect.ValueOf(fmt.Sprint(vs...)), nil
			}
			return reflect.ValueOf(fmt.Sprintln(vs...)), nil
		}, stringType, nil
	case "Sprintf":
		return func() (reflect.Value, error) {
			f, vs, err := format()
			if err != nil {
				return reflect.Value{}, err
			}
			return reflect.ValueOf(fmt.Sprintf(f, vs...)), nil
		}, stringType, nil
	}
	return nil, nil, ErrUnsupported
}
