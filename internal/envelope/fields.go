package envelope

import (
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode"
)

// Struct fields are encoded as dict members the way encoding/json encodes
// them, so that one struct declaration serves nest's JSON codec and this
// one: `json:"name,omitempty,omitzero,string"` tags, "-" to leave a field
// out, unexported fields left out, and the fields of embedded structs
// promoted by encoding/json's rules (the shallowest wins, then the tagged
// one; a tie leaves the name out).

type field struct {
	name      string
	nameJSON  []byte // `"name": ` as json.dumps writes it
	index     []int
	typ       reflect.Type
	tagged    bool
	omitEmpty bool
	omitZero  bool
	quoted    bool // `,string`: a number or bool written inside a string
}

type structFields struct {
	list   []field
	byName map[string]int
}

// index returns the position in list of the field a dict key names:
// exactly, else ignoring case, as encoding/json matches them; or -1.
func (s *structFields) index(key string) int {
	if i, ok := s.byName[key]; ok {
		return i
	}
	for i := range s.list {
		if strings.EqualFold(s.list[i].name, key) {
			return i
		}
	}
	return -1
}

var fieldCache sync.Map // reflect.Type -> *structFields

func cachedFields(t reflect.Type) *structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(*structFields)
	}
	f, _ := fieldCache.LoadOrStore(t, typeFields(t))
	return f.(*structFields)
}

// typeFields lists the fields of struct type t that encoding/json would
// encode, walking embedded structs breadth first.
func typeFields(t reflect.Type) *structFields {
	type walk struct {
		typ   reflect.Type
		index []int
	}
	var (
		fields  []field
		current []walk
		next    = []walk{{typ: t}}
		visited = map[reflect.Type]bool{}
		count   = map[reflect.Type]int{}
	)
	for len(next) > 0 {
		current, next = next, current[:0]
		nextCount := map[reflect.Type]int{}
		for _, w := range current {
			if visited[w.typ] {
				continue
			}
			visited[w.typ] = true
			for i := range w.typ.NumField() {
				sf := w.typ.Field(i)
				if sf.Anonymous {
					ft := sf.Type
					if ft.Kind() == reflect.Pointer {
						ft = ft.Elem()
					}
					if !sf.IsExported() && ft.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				if !validTag(name) {
					name = ""
				}
				index := append(slices.Clip(w.index), i)
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct {
					f := field{
						name:      name,
						index:     index,
						typ:       sf.Type,
						tagged:    name != "",
						omitEmpty: hasOpt(opts, "omitempty"),
						omitZero:  hasOpt(opts, "omitzero"),
					}
					if f.name == "" {
						f.name = sf.Name
					}
					if hasOpt(opts, "string") {
						switch ft.Kind() {
						case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
							reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
							reflect.Float32, reflect.Float64, reflect.String:
							f.quoted = true
						}
					}
					fields = append(fields, f)
					if count[w.typ] > 1 {
						// Two embeddings of one type at one depth annihilate
						// each other; one copy is enough to find the tie.
						fields = append(fields, fields[len(fields)-1])
					}
					continue
				}
				nextCount[ft]++
				if nextCount[ft] == 1 {
					next = append(next, walk{typ: ft, index: index})
				}
			}
		}
		count = nextCount
	}
	// Sort by name, then depth, then tagged first, to find the dominant
	// field of each name; then restore declaration order.
	slices.SortStableFunc(fields, func(a, b field) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		if c := len(a.index) - len(b.index); c != 0 {
			return c
		}
		if a.tagged != b.tagged {
			if a.tagged {
				return -1
			}
			return 1
		}
		return slices.Compare(a.index, b.index)
	})
	out := fields[:0]
	for i := 0; i < len(fields); {
		j := i + 1
		for j < len(fields) && fields[j].name == fields[i].name {
			j++
		}
		if f, ok := dominant(fields[i:j]); ok {
			out = append(out, f)
		}
		i = j
	}
	slices.SortFunc(out, func(a, b field) int { return slices.Compare(a.index, b.index) })
	s := &structFields{list: out, byName: make(map[string]int, len(out))}
	for i, f := range out {
		s.byName[f.name] = i
		b, err := appendString(nil, f.name)
		if err != nil { // not UTF-8: as encoding/json, U+FFFD
			b, _ = appendString(nil, strings.ToValidUTF8(f.name, "\ufffd"))
		}
		out[i].nameJSON = append(b, ':', ' ')
	}
	return s
}

// dominant returns the field that wins among fields of one name, sorted
// by depth and taggedness: the only shallowest one, or the only tagged
// one among the shallowest.
func dominant(fs []field) (field, bool) {
	if len(fs) > 1 && len(fs[0].index) == len(fs[1].index) && fs[0].tagged == fs[1].tagged {
		return field{}, false
	}
	return fs[0], true
}

func hasOpt(opts, name string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == name {
			return true
		}
	}
	return false
}

// validTag reports whether encoding/json accepts s as a field name.
func validTag(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}
