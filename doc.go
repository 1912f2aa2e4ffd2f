// Package wavedr holds the domain of the wavedr disaster-recovery
// orchestrator: accounts, protection groups, recovery plans, executions, their
// statuses and transition tables, validation, error codes, and the interfaces
// that the edges (store, AWS adapter, engine, HTTP) implement.
//
// The package imports nothing from those edges; they import it.
package wavedr
