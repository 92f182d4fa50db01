package nest

import (
	"encoding"
	"reflect"
	"strconv"
	"time"
)

// The native encodings: values with a text form of their own are stored in
// it, so that redis-cli shows them and INCRBY works on numbers.

func timeCodec[T any]() *valueCodec[T] {
	return withDefault(&valueCodec[T]{
		name: "time",
		enc: func(v T) (any, error) {
			b, err := any(v).(time.Time).MarshalText()
			if err != nil {
				return nil, err
			}
			return b, nil
		},
		dec: func(s string) (T, error) {
			t, err := time.Parse(time.RFC3339Nano, s)
			return any(t).(T), err
		},
	})
}

func textCodec[T any]() *valueCodec[T] {
	return withDefault(&valueCodec[T]{
		name: "text",
		enc: func(v T) (any, error) {
			b, err := any(&v).(encoding.TextMarshaler).MarshalText()
			return b, err
		},
		dec: func(s string) (T, error) {
			var v T
			err := any(&v).(encoding.TextUnmarshaler).UnmarshalText([]byte(s))
			return v, err
		},
	})
}

func binaryCodec[T any]() *valueCodec[T] {
	return withDefault(&valueCodec[T]{
		name: "binary",
		enc: func(v T) (any, error) {
			b, err := any(v).(encoding.BinaryMarshaler).MarshalBinary()
			return b, err
		},
		dec: func(s string) (T, error) {
			var v T
			err := any(&v).(encoding.BinaryUnmarshaler).UnmarshalBinary([]byte(s))
			return v, err
		},
	})
}

// scalarCodec handles types whose kind is a string, byte slice, integer,
// float or bool. The predeclared types (and time.Duration) are matched by a
// type switch and converted with a type assertion, which the compiler turns
// into a plain copy; other named types (type Celsius float64) are read and
// written through reflect, whose Value of &v does not escape, so neither
// path allocates beyond boxing the result for go-redis.
func scalarCodec[T any](rt reflect.Type) *valueCodec[T] {
	var zero T
	switch any(zero).(type) {
	case string:
		return native[T]("string", func(v string) any { return v }, func(s string) (string, error) { return s, nil })
	case []byte:
		return native[T]("bytes", func(v []byte) any { return v }, func(s string) ([]byte, error) { return []byte(s), nil })
	case int:
		return plainInt(native[T]("int", func(v int) any { return int64(v) }, parseInt[int](rt.Bits())))
	case int8:
		return plainInt(native[T]("int", func(v int8) any { return int64(v) }, parseInt[int8](rt.Bits())))
	case int16:
		return plainInt(native[T]("int", func(v int16) any { return int64(v) }, parseInt[int16](rt.Bits())))
	case int32:
		return plainInt(native[T]("int", func(v int32) any { return int64(v) }, parseInt[int32](rt.Bits())))
	case int64:
		return plainInt(native[T]("int", func(v int64) any { return v }, parseInt[int64](rt.Bits())))
	case time.Duration:
		// Stored as nanoseconds (INCRBY works); a default tag may also be
		// written as a Go duration, default:"1m30s".
		c := native[T]("int", func(v time.Duration) any { return int64(v) }, parseInt[time.Duration](rt.Bits()))
		c.parseDefault = func(s string) (T, error) {
			if d, err := time.ParseDuration(s); err == nil {
				return any(d).(T), nil
			}
			return c.dec(s)
		}
		return c
	case uint:
		return plainInt(native[T]("uint", func(v uint) any { return uint64(v) }, parseUint[uint](rt.Bits())))
	case uint8:
		return plainInt(native[T]("uint", func(v uint8) any { return uint64(v) }, parseUint[uint8](rt.Bits())))
	case uint16:
		return plainInt(native[T]("uint", func(v uint16) any { return uint64(v) }, parseUint[uint16](rt.Bits())))
	case uint32:
		return plainInt(native[T]("uint", func(v uint32) any { return uint64(v) }, parseUint[uint32](rt.Bits())))
	case uint64:
		return plainInt(native[T]("uint", func(v uint64) any { return v }, parseUint[uint64](rt.Bits())))
	case uintptr:
		return native[T]("uint", func(v uintptr) any { return uint64(v) }, parseUint[uintptr](rt.Bits()))
	case float32:
		return native[T]("float", func(v float32) any { return strconv.FormatFloat(float64(v), 'g', -1, 32) }, parseFloat[float32](rt.Bits()))
	case float64:
		return native[T]("float", func(v float64) any { return strconv.FormatFloat(v, 'g', -1, 64) }, parseFloat[float64](rt.Bits()))
	case bool:
		return native[T]("bool", formatBool, strconv.ParseBool)
	}
	return reflectScalar[T](rt)
}

// plainInt is scalarCodec for the predeclared integer types: go-redis
// writes their values as decimal text, exactly as enc does.
func plainInt[T any](c *valueCodec[T]) *valueCodec[T] {
	c.plain = *new(T)
	return c
}

// native builds the codec of T from functions of U, the same type: the type
// assertions between the two are copies.
func native[T, U any](name string, enc func(U) any, dec func(string) (U, error)) *valueCodec[T] {
	return withDefault(&valueCodec[T]{
		name: name,
		enc:  func(v T) (any, error) { return enc(any(v).(U)), nil },
		dec: func(s string) (T, error) {
			u, err := dec(s)
			return any(u).(T), err
		},
	})
}

// parseInt, parseUint and parseFloat return parsers of decimal text into
// a type of the given size in bits, which rejects values out of its range.
func parseInt[I ~int | ~int8 | ~int16 | ~int32 | ~int64](bits int) func(string) (I, error) {
	if bits == strconv.IntSize {
		// The same results; Atoi parses short text twice as fast.
		return func(s string) (I, error) {
			n, err := strconv.Atoi(s)
			return I(n), err
		}
	}
	return func(s string) (I, error) {
		n, err := strconv.ParseInt(s, 10, bits)
		return I(n), err
	}
}

func parseUint[U ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr](bits int) func(string) (U, error) {
	return func(s string) (U, error) {
		n, err := strconv.ParseUint(s, 10, bits)
		return U(n), err
	}
}

func parseFloat[F ~float32 | ~float64](bits int) func(string) (F, error) {
	return func(s string) (F, error) {
		f, err := strconv.ParseFloat(s, bits)
		return F(f), err
	}
}

func formatBool(b bool) any {
	if b {
		return "1"
	}
	return "0"
}

var bytesType = reflect.TypeFor[[]byte]()

// reflectScalar handles named types of a scalar kind through reflect.
func reflectScalar[T any](rt reflect.Type) *valueCodec[T] {
	k := rt.Kind()
	var c *valueCodec[T]
	switch {
	case k == reflect.String:
		c = &valueCodec[T]{
			name: "string",
			enc:  func(v T) (any, error) { return reflect.ValueOf(&v).Elem().String(), nil },
			dec: func(s string) (v T, err error) {
				reflect.ValueOf(&v).Elem().SetString(s)
				return v, nil
			},
		}
	case k == reflect.Slice && rt.Elem().Kind() == reflect.Uint8:
		c = &valueCodec[T]{
			name: "bytes",
			// Converting the boxed value reuses the box: one allocation,
			// as for a []byte (Bytes of &v would move v to the heap too).
			enc: func(v T) (any, error) { return reflect.ValueOf(v).Convert(bytesType).Interface(), nil },
			dec: func(s string) (v T, err error) {
				reflect.ValueOf(&v).Elem().SetBytes([]byte(s))
				return v, nil
			},
		}
	case reflect.Int <= k && k <= reflect.Int64:
		bits := rt.Bits()
		c = &valueCodec[T]{
			name: "int",
			enc:  func(v T) (any, error) { return reflect.ValueOf(&v).Elem().Int(), nil },
			dec: func(s string) (v T, err error) {
				n, err := strconv.ParseInt(s, 10, bits)
				reflect.ValueOf(&v).Elem().SetInt(n)
				return v, err
			},
		}
	case reflect.Uint <= k && k <= reflect.Uintptr:
		bits := rt.Bits()
		c = &valueCodec[T]{
			name: "uint",
			enc:  func(v T) (any, error) { return reflect.ValueOf(&v).Elem().Uint(), nil },
			dec: func(s string) (v T, err error) {
				n, err := strconv.ParseUint(s, 10, bits)
				reflect.ValueOf(&v).Elem().SetUint(n)
				return v, err
			},
		}
	case k == reflect.Float32 || k == reflect.Float64:
		bits := rt.Bits()
		c = &valueCodec[T]{
			name: "float",
			enc: func(v T) (any, error) {
				return strconv.FormatFloat(reflect.ValueOf(&v).Elem().Float(), 'g', -1, bits), nil
			},
			dec: func(s string) (v T, err error) {
				f, err := strconv.ParseFloat(s, bits)
				reflect.ValueOf(&v).Elem().SetFloat(f)
				return v, err
			},
		}
	case k == reflect.Bool:
		c = &valueCodec[T]{
			name: "bool",
			enc:  func(v T) (any, error) { return formatBool(reflect.ValueOf(&v).Elem().Bool()), nil },
			dec: func(s string) (v T, err error) {
				b, err := strconv.ParseBool(s)
				reflect.ValueOf(&v).Elem().SetBool(b)
				return v, err
			},
		}
	default:
		return nil
	}
	return withDefault(c)
}
