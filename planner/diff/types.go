package diff

import (
	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
)

// typeChange says whether changing a column from one type to another
// rewrites the table, and whether it narrows it (values may not fit).
func typeChange(from, to schema.Type) (rewrite, narrow bool) {
	switch f := from.(type) {
	case *schema.IntegerType:
		if t, ok := to.(*schema.IntegerType); ok {
			fs, ts := intSize(f.T), intSize(t.T)
			return fs != ts, ts < fs
		}
	case *schema.FloatType:
		if t, ok := to.(*schema.FloatType); ok {
			fs, ts := floatSize(f), floatSize(t)
			return fs != ts, ts < fs
		}
	case *schema.StringType:
		switch t := to.(type) {
		case *schema.StringType:
			if f.T != t.T {
				// varchar -> text is binary-coercible; anything else rewrites.
				widen := t.T == "text" && (f.T == "character varying" || f.T == "varchar")
				return !widen, !widen && t.Size > 0
			}
			switch {
			case f.Size == t.Size:
				return false, false
			case t.Size == 0 || (f.Size > 0 && t.Size > f.Size):
				return f.T == "character" || f.T == "char", false
			default:
				return true, true
			}
		}
	case *schema.DecimalType:
		if t, ok := to.(*schema.DecimalType); ok {
			if f.Scale != t.Scale {
				return true, t.Scale < f.Scale
			}
			if t.Precision == 0 || (f.Precision > 0 && t.Precision >= f.Precision) {
				return false, false
			}
			return true, true
		}
	}
	return typeString(from) != typeString(to), false
}

func intSize(t string) int {
	switch t {
	case "smallint", "int2", "smallserial":
		return 2
	case "bigint", "int8", "bigserial":
		return 8
	}
	return 4
}

func floatSize(t *schema.FloatType) int {
	if t.T == "real" || t.T == "float4" || (t.Precision > 0 && t.Precision <= 24) {
		return 4
	}
	return 8
}

func typeString(t schema.Type) string {
	s, err := postgres.FormatType(t)
	if err != nil {
		return "?"
	}
	return s
}
