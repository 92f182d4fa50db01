package nest_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/redisimnest/nest"
)

// everyKind holds a zero value of every key kind; TestZeroHandles calls
// each of their methods.
var everyKind = []any{
	nest.Key[int]{}, nest.Secret[string]{}, nest.Password{},
	nest.Set[string]{}, nest.List[string]{}, nest.SortedSet[string]{},
	nest.Hash[int]{}, nest.Struct[handleProfile]{}, nest.Counter{}, nest.FloatCounter{}, nest.Lock{},
}

type handleProfile struct {
	Name string `redis:"name"`
}

// TestZeroHandles calls every method of every key kind that takes a
// context on a zero (unbound) handle, with zero arguments: each must
// return ErrNotBound (directly, or as an iterator's error) and never
// panic or reach Redis.
func TestZeroHandles(t *testing.T) {
	ctxType := reflect.TypeFor[context.Context]()
	errType := reflect.TypeFor[error]()
	for _, h := range everyKind {
		v := reflect.ValueOf(h)
		for i := range v.NumMethod() {
			m := v.Type().Method(i)
			mt := v.Method(i).Type()
			if mt.NumIn() == 0 || mt.In(0) != ctxType {
				continue
			}
			name := fmt.Sprintf("%T.%s", h, m.Name)
			t.Run(name, func(t *testing.T) {
				args := []reflect.Value{reflect.ValueOf(context.Background())}
				for j := 1; j < mt.NumIn(); j++ {
					if mt.IsVariadic() && j == mt.NumIn()-1 {
						break
					}
					args = append(args, reflect.Zero(mt.In(j)))
				}
				var out []reflect.Value
				err := assertNoPanic(t, name, func() error {
					out = v.Method(i).Call(args)
					return nil
				})
				if err != nil {
					return
				}
				if got := resultErr(t, out, errType); !errors.Is(got, nest.ErrNotBound) {
					t.Fatalf("%s on a zero handle = %v; want ErrNotBound", name, got)
				}
			})
		}
	}
}

// resultErr finds the error a method returned: its last error result, or
// the error an iter.Seq2[_, error] yields first.
func resultErr(t *testing.T, out []reflect.Value, errType reflect.Type) error {
	t.Helper()
	if len(out) == 0 {
		t.Fatal("method returns nothing")
	}
	last := out[len(out)-1]
	if last.Type() == errType {
		err, _ := last.Interface().(error)
		return err
	}
	if last.Kind() == reflect.Func && last.Type().NumIn() == 1 { // iter.Seq2[K, error]
		var got error
		yield := reflect.MakeFunc(last.Type().In(0), func(args []reflect.Value) []reflect.Value {
			if e, ok := args[len(args)-1].Interface().(error); ok && got == nil {
				got = e
			}
			return []reflect.Value{reflect.ValueOf(false)}
		})
		last.Call([]reflect.Value{yield})
		return got
	}
	t.Fatalf("cannot find the error among %d results", len(out))
	return nil
}
