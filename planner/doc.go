// Package planner makes plans: Generate is the one function that does, for
// keel plan, apply, status and doctor alike. It reads the desired state
// (package source), inspects the target on the command's one connection
// (inspect), and turns the difference into a plan (diff), a value of package
// plan. The plan is rendered (render), saved and approved (planfile) and run
// (apply) by the packages beside it. pg is keel's side of a connection, state
// a schema state and its HCL form.
//
// Imports point one way: planner -> source, inspect, diff -> state, pg ->
// plan. apply uses inspect and diff to check a result; nothing here imports
// the CLI, the profiles or the doctor.
package planner
