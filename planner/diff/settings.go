package diff

import (
	"fmt"
	"strconv"
	"strings"

	"keel/internal/pgsql"
	"keel/planner/state"
)

// IsSetting reports whether kind is one of the catalog's settings of
// tables, columns and constraints that keel plans itself (see
// state.CatalogPersistence and the kinds after it).
func IsSetting(kind string) bool {
	switch kind {
	case state.CatalogPersistence, state.CatalogStorageParameter, state.CatalogReplicaIdentity,
		state.CatalogColumnStorage, state.CatalogColumnCompression, state.CatalogColumnStatistics,
		state.CatalogIdentityOptions, state.CatalogConstraintComment:
		return true
	}
	return false
}

// storages are the column storages, as SET STORAGE takes them.
var storages = map[string]bool{"plain": true, "external": true, "main": true, "extended": true}

// SettingSQL returns the statement that brings the setting k from live to
// desired, each as a catalog describes it ("" for PostgreSQL's default).
// The values come from PostgreSQL's catalog or from a desired state the
// user wrote: each is checked, names are quoted and strings are literals.
func SettingSQL(k state.CatalogKey, desired, live string) (string, error) {
	table := "ALTER TABLE " + pgsql.QuoteQualified(k.Schema, k.Table)
	column := table + " ALTER COLUMN " + pgsql.QuoteIdent(k.Name)
	switch k.Kind {
	case state.CatalogPersistence:
		switch desired {
		case "unlogged":
			return table + " SET UNLOGGED", nil
		case "":
			return table + " SET LOGGED", nil
		}
	case state.CatalogStorageParameter:
		name, err := reloptionName(k.Name)
		if err != nil {
			return "", err
		}
		if desired == "" {
			return table + " RESET (" + name + ")", nil
		}
		return table + " SET (" + name + " = " + pgsql.QuoteLiteral(desired) + ")", nil
	case state.CatalogReplicaIdentity:
		switch {
		case desired == "":
			return table + " REPLICA IDENTITY DEFAULT", nil
		case desired == "full", desired == "nothing":
			return table + " REPLICA IDENTITY " + strings.ToUpper(desired), nil
		case strings.HasPrefix(desired, "index "):
			return table + " REPLICA IDENTITY USING INDEX " + pgsql.QuoteIdent(strings.TrimPrefix(desired, "index ")), nil
		}
	case state.CatalogColumnStorage:
		// Unset, the column has its type's storage, which the live side names.
		want := storageOf(desired)
		if desired == "" {
			want = typeStorageOf(live)
		}
		if storages[want] {
			return column + " SET STORAGE " + strings.ToUpper(want), nil
		}
	case state.CatalogColumnCompression:
		switch desired {
		case "pglz", "lz4":
			return column + " SET COMPRESSION " + desired, nil
		case "":
			return column + " SET COMPRESSION default", nil
		}
	case state.CatalogColumnStatistics:
		if desired == "" {
			return column + " SET STATISTICS -1", nil
		}
		if n, err := strconv.Atoi(desired); err == nil && n >= 0 && n <= 10000 {
			return column + " SET STATISTICS " + strconv.Itoa(n), nil
		}
	case state.CatalogIdentityOptions:
		return identitySQL(column, desired, live)
	case state.CatalogConstraintComment:
		comment := "NULL"
		if desired != "" {
			comment = pgsql.QuoteLiteral(desired)
		}
		return "COMMENT ON CONSTRAINT " + pgsql.QuoteIdent(k.Name) + " ON " + pgsql.QuoteQualified(k.Schema, k.Table) + " IS " + comment, nil
	default:
		return "", fmt.Errorf("%s: keel does not plan this kind of setting", k)
	}
	return "", fmt.Errorf("%s: %q is not a value keel can set (from %q)", k, desired, live)
}

// reloptionName quotes a storage parameter's name, "toast." prefixed or not.
func reloptionName(name string) (string, error) {
	prefix, rest, ok := strings.Cut(name, ".")
	if !ok {
		rest, prefix = prefix, ""
	}
	if rest == "" || strings.Contains(rest, ".") || ok && prefix != "toast" {
		return "", fmt.Errorf("%q is not a storage parameter", name)
	}
	if prefix != "" {
		return pgsql.QuoteIdent(prefix) + "." + pgsql.QuoteIdent(rest), nil
	}
	return pgsql.QuoteIdent(rest), nil
}

// storageOf is the column's storage in a catalog's description of it,
// "external (the type's: extended)"; typeStorageOf is the type's.
func storageOf(desc string) string {
	s, _, _ := strings.Cut(desc, " ")
	return s
}

func typeStorageOf(desc string) string {
	_, t, _ := strings.Cut(desc, "(the type's: ")
	return strings.TrimSuffix(t, ")")
}

// IdentityOptions reads an identity's options as a catalog describes them
// ("minvalue 5 maxvalue 100 cache 20 cycle"): each option and its value
// ("" for cycle).
func IdentityOptions(desc string) (map[string]string, error) {
	out := make(map[string]string)
	f := strings.Fields(desc)
	for i := 0; i < len(f); i++ {
		switch f[i] {
		case "cycle":
			out["cycle"] = ""
		case "minvalue", "maxvalue", "cache":
			if i+1 == len(f) {
				return nil, fmt.Errorf("identity option %s without a value", f[i])
			}
			if _, err := strconv.ParseInt(f[i+1], 10, 64); err != nil {
				return nil, fmt.Errorf("identity option %s: %q is not an integer", f[i], f[i+1])
			}
			out[f[i]] = f[i+1]
			i++
		default:
			return nil, fmt.Errorf("%q is not an identity option", f[i])
		}
	}
	return out, nil
}

// identitySQL changes the identity options that differ, the ones the
// desired side leaves out back to their defaults.
func identitySQL(column, desired, live string) (string, error) {
	want, err := IdentityOptions(desired)
	if err != nil {
		return "", err
	}
	have, err := IdentityOptions(live)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(column)
	for _, o := range []string{"minvalue", "maxvalue", "cache", "cycle"} {
		w, set := want[o]
		if h, had := have[o]; set == had && w == h {
			continue
		}
		switch {
		case o == "cycle" && set:
			b.WriteString(" SET CYCLE")
		case o == "cycle":
			b.WriteString(" SET NO CYCLE")
		case o == "cache" && !set:
			b.WriteString(" SET CACHE 1")
		case !set:
			b.WriteString(" SET NO " + strings.ToUpper(o))
		default:
			b.WriteString(" SET " + strings.ToUpper(o) + " " + w)
		}
	}
	if b.Len() == len(column) {
		return "", fmt.Errorf("identity options %q and %q do not differ", desired, live)
	}
	return b.String(), nil
}
