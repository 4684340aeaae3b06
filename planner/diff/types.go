package diff

import (
	"strings"

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
				return true, narrows(from, to)
			}
			if t.Precision == 0 || (f.Precision > 0 && t.Precision >= f.Precision) {
				return false, false
			}
			return true, true
		}
	}
	return typeString(from) != typeString(to), narrows(from, to)
}

// narrows reports whether a value of type from may not fit type to as it
// is: cut (a fraction, a time of day, digits of precision, bits), rounded
// or rejected. Conversions PostgreSQL has no automatic cast for are not
// judged here (see Facts.Converts).
func narrows(from, to schema.Type) bool {
	switch f := from.(type) {
	case *schema.DecimalType:
		switch t := to.(type) {
		case *schema.DecimalType:
			switch {
			case t.Precision == 0:
				return false // unconstrained numeric holds any numeric
			case f.Precision == 0:
				return true
			}
			return t.Scale < f.Scale || t.Precision-t.Scale < f.Precision-f.Scale
		case *schema.IntegerType, *schema.FloatType:
			return true
		}
	case *schema.FloatType:
		switch t := to.(type) {
		case *schema.IntegerType:
			return true
		case *schema.DecimalType:
			return t.Precision > 0
		}
	case *schema.IntegerType:
		switch t := to.(type) {
		case *schema.DecimalType:
			return t.Precision > 0 && int(t.Precision-t.Scale) < intDigits(f.T)
		case *schema.FloatType:
			// float4 keeps 6 significant digits, float8 15.
			return intDigits(f.T) > 6 && floatSize(t) == 4 || intDigits(f.T) > 15
		}
	case *schema.TimeType:
		if t, ok := to.(*schema.TimeType); ok {
			fk, tk := timeKind(f.T), timeKind(t.T)
			switch {
			case fk == "timestamp" && tk != "timestamp":
				return true // the date or the time of day is cut
			case fk == "time" && tk != "time":
				return true
			case fk == tk && fk != "date":
				return precision(t.Precision) < precision(f.Precision)
			}
		}
	case *postgres.IntervalType:
		if t, ok := to.(*postgres.IntervalType); ok {
			return t.F != "" && !strings.EqualFold(t.F, f.F) || precision(t.Precision) < precision(f.Precision)
		}
	case *postgres.BitType:
		if t, ok := to.(*postgres.BitType); ok {
			return t.Len > 0 && (f.Len == 0 || t.Len < f.Len)
		}
	case *postgres.ArrayType:
		if t, ok := to.(*postgres.ArrayType); ok {
			_, narrow := typeChange(f.Type, t.Type)
			return narrow
		}
	}
	return false
}

// intDigits is how many decimal digits an integer type's values can have.
func intDigits(t string) int {
	switch intSize(t) {
	case 2:
		return 5
	case 8:
		return 19
	}
	return 10
}

// timeKind is "timestamp", "date" or "time" for a time type's name.
func timeKind(t string) string {
	switch {
	case strings.HasPrefix(t, "timestamp"):
		return "timestamp"
	case t == "date":
		return "date"
	}
	return "time"
}

// precision is a time or interval precision, 6 when not set.
func precision(p *int) int {
	if p == nil {
		return 6
	}
	return *p
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
