// Package planner computes and applies the changes that bring a PostgreSQL
// database to a desired schema. It is the library behind the keel CLI: a test
// or an application's start-up check can plan and apply without the CLI.
package planner
