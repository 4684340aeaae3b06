// Package plan holds the values keel plans with and hands around: a Plan
// and its Steps, Hazards, the Fingerprints of the states it goes between,
// the Target it was computed for, and how objects are named in it. It is
// pure: nothing here connects to a database or calls the schema engine.
package plan
