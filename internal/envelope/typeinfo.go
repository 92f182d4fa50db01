package envelope

import (
	"reflect"
	"sync"
)

// typeInfo is what encoding and decoding need to know of a Go type beyond
// its kind, found once per type: walking a value then asks no method set.
type typeInfo struct {
	special      specialType
	jsonM, textM recv // how the type implements json.Marshaler, encoding.TextMarshaler
	jsonU, textU bool // its pointer implements json.Unmarshaler, encoding.TextUnmarshaler
	bytes        bool // a byte slice written as a str (isBytes)
}

type specialType uint8

const (
	specNone specialType = iota
	specTime
	specBigInt
	specUUID
	specNumber
)

// recv tells whether a type has a method: not, on its values, or on its
// pointers only (callable on addressable values, as encoding/json does).
type recv uint8

const (
	recvNone recv = iota
	recvValue
	recvPointer
)

// has reports whether v, of the type, can call the method.
func (r recv) has(v reflect.Value) bool {
	return r == recvValue || r == recvPointer && v.CanAddr()
}

var typeInfos sync.Map // reflect.Type -> *typeInfo

func infoOf(t reflect.Type) *typeInfo {
	if ti, ok := typeInfos.Load(t); ok {
		return ti.(*typeInfo)
	}
	ti := &typeInfo{}
	switch {
	case t == timeType:
		ti.special = specTime
	case t == bigIntType:
		ti.special = specBigInt
	case isUUID(t):
		ti.special = specUUID
	case t == numberType:
		ti.special = specNumber
	}
	pt := reflect.PointerTo(t)
	receiver := func(iface reflect.Type) recv {
		switch {
		case t.Implements(iface):
			return recvValue
		case pt.Implements(iface):
			return recvPointer
		}
		return recvNone
	}
	ti.jsonM, ti.textM = receiver(jsonMarshalerType), receiver(textMarshalerType)
	ti.jsonU, ti.textU = pt.Implements(jsonUnmarshalerType), pt.Implements(textUnmarshalerType)
	ti.bytes = isBytes(t)
	actual, _ := typeInfos.LoadOrStore(t, ti)
	return actual.(*typeInfo)
}
