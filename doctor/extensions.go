package doctor

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"keel/planner/plan"

	"github.com/jackc/pgx/v5"
)

// extVersion is one installable version of an extension
// (pg_available_extension_versions).
type extVersion struct {
	Version   string
	Superuser bool // only a superuser may install it...
	Trusted   bool // ...unless it is trusted (PostgreSQL 13 and later)
}

// extFacts is what the server says about one extension.
type extFacts struct {
	Versions  []extVersion // none: the server does not have it (or, installed at the wanted version, not read)
	Default   string       // the version CREATE EXTENSION installs
	Installed string       // the installed version, "" when not installed
}

// platform is what decides who may install extensions on the server.
type platform struct {
	superuser       bool
	azureExtensions *string // azure.extensions, when the server has it
	rdsExtensions   *string // rds.allowed_extensions, when the server has it
}

// AllowList is a managed platform's list of the extensions that may be created.
type AllowList struct {
	// Setting is the server parameter: "azure.extensions", "rds.allowed_extensions".
	Setting string
	// Value is its current value.
	Value string
}

// Allows reports whether the list lets ext be created. azure.extensions
// names each allowed extension (empty allows none); rds.allowed_extensions
// is the same, except that "*" or an empty value allows all. Names compare
// without regard to case and spaces around commas.
func (a AllowList) Allows(ext string) bool {
	v := strings.TrimSpace(a.Value)
	if a.Setting == "rds.allowed_extensions" && (v == "" || v == "*") {
		return true
	}
	for _, n := range strings.Split(v, ",") {
		n = strings.TrimSpace(n)
		if n == "*" || strings.EqualFold(n, ext) {
			return true
		}
	}
	return false
}

// fix says how to add ext to the list.
func (a AllowList) fix(ext string) string {
	next := ext
	if v := strings.TrimSpace(a.Value); v != "" {
		next = v + "," + ext
	}
	switch a.Setting {
	case "azure.extensions":
		return fmt.Sprintf("add %s to the server parameter azure.extensions (Azure portal: Server parameters, or "+
			"`az postgres flexible-server parameter set --name azure.extensions --value %s ...`), then run keel again", ext, next)
	default:
		return fmt.Sprintf("add %s to rds.allowed_extensions in the instance's DB parameter group (now %q), then run keel again", ext, a.Value)
	}
}

func (p platform) allowLists() []AllowList {
	var l []AllowList
	if p.azureExtensions != nil {
		l = append(l, AllowList{Setting: "azure.extensions", Value: *p.azureExtensions})
	}
	if p.rdsExtensions != nil {
		l = append(l, AllowList{Setting: "rds.allowed_extensions", Value: *p.rdsExtensions})
	}
	return l
}

// extensionCheck decides whether the desired extension can be had on the
// server. It does not judge CREATE on the database, which the privilege
// checks do.
func extensionCheck(want plan.Extension, f extFacts, p platform) Check {
	c := Check{Name: "extension " + want.Name, Status: Fail}
	declared := ""
	if want.Pos != "" {
		declared = " (declared at " + want.Pos + ")"
	}
	if f.Installed != "" && (want.Version == "" || want.Version == f.Installed) {
		// Nothing to install: the version in the database counts, even
		// when the server's package could no longer install it afresh.
		c.Status = OK
		c.Message = fmt.Sprintf("installed, version %s", f.Installed)
		return c
	}
	if len(f.Versions) == 0 {
		c.Message = fmt.Sprintf("extension %q%s is not available on the server: pg_available_extension_versions does not list it", want.Name, declared)
		c.Fix = fmt.Sprintf("install the package that provides %s on the database server (on Debian: postgresql-NN-%s or postgresql-contrib), "+
			"use a server that offers it, or remove the extension block", want.Name, want.Name)
		return c
	}
	version := want.Version
	if version == "" {
		version = f.Installed
	}
	if version == "" {
		version = f.Default
	}
	var v *extVersion
	var have []string
	for i := range f.Versions {
		have = append(have, f.Versions[i].Version)
		if f.Versions[i].Version == version {
			v = &f.Versions[i]
		}
	}
	if v == nil {
		c.Message = fmt.Sprintf("extension %q%s: version %s is not available; the server has %s", want.Name, declared, version, strings.Join(have, ", "))
		c.Fix = "pin one of the available versions, or install the extension's newer package on the server"
		return c
	}
	if f.Installed != "" {
		c.Status = OK
		c.Message = fmt.Sprintf("installed, version %s", f.Installed)
		if version != f.Installed {
			c.Message += fmt.Sprintf("; version %s is available to update to", version)
		}
		return c
	}
	for _, l := range p.allowLists() {
		if !l.Allows(want.Name) {
			c.Message = fmt.Sprintf("extension %q%s is not allow-listed in the server parameter %s (now %q)", want.Name, declared, l.Setting, l.Value)
			c.Fix = l.fix(want.Name)
			return c
		}
	}
	c.Status = OK
	c.Message = fmt.Sprintf("available, version %s, not installed yet; ", version)
	switch {
	case !v.Superuser:
		c.Message += "any role with CREATE on the database may install it"
	case v.Trusted:
		c.Message += "trusted: a role with CREATE on the database may install it"
	case p.superuser:
		c.Message += "only a superuser may install it, and the role is one"
	case len(p.allowLists()) > 0:
		c.Message += "allow-listed by the platform: its administrator role may install it"
	default:
		c.Status = Fail
		c.Message = fmt.Sprintf("extension %q%s is not trusted: only a superuser may install it, and the role is not one", want.Name, declared)
		c.Fix = fmt.Sprintf("have a superuser run `CREATE EXTENSION IF NOT EXISTS %s` in the database once, or apply as a superuser",
			pgx.Identifier{want.Name}.Sanitize())
	}
	return c
}

// extensionChecks checks each desired extension against the server.
func extensionChecks(ctx context.Context, conn *pgx.Conn, f *facts, exts []plan.Extension) ([]Check, error) {
	trusted := "false"
	if f.versionNum >= 130000 {
		trusted = "trusted"
	}
	p := platform{superuser: f.superuser, azureExtensions: f.azureExtensions, rdsExtensions: f.rdsExtensions}
	var checks []Check
	for _, e := range exts {
		var ef extFacts
		err := conn.QueryRow(ctx, `SELECT default_version, COALESCE(installed_version, '') FROM pg_catalog.pg_available_extensions WHERE name = $1`, e.Name).
			Scan(&ef.Default, &ef.Installed)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			// No control file: the server does not have it.
		case err != nil:
			return checks, fmt.Errorf("reading pg_available_extensions: %w", serverError(err))
		case ef.Installed == "" || e.Version != "" && e.Version != ef.Installed:
			// To be installed or updated: which versions the server has.
			// (pg_available_extension_versions reads every extension's
			// scripts: tens of milliseconds with PostGIS on the server.)
			rows, err := conn.Query(ctx, `SELECT version, superuser, `+trusted+` FROM pg_catalog.pg_available_extension_versions WHERE name = $1 ORDER BY version`, e.Name)
			if err != nil {
				return checks, fmt.Errorf("reading pg_available_extension_versions: %w", serverError(err))
			}
			ef.Versions, err = pgx.CollectRows(rows, pgx.RowToStructByPos[extVersion])
			if err != nil {
				return checks, fmt.Errorf("reading pg_available_extension_versions: %w", serverError(err))
			}
		}
		checks = append(checks, extensionCheck(e, ef, p))
	}
	return checks, nil
}
