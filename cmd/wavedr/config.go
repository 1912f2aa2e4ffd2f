package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

// storeFlags are the flags of the commands that open the store directly.
type storeFlags struct {
	db      string
	dataDir string
}

func (s *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.db, "db", "", "database URL: sqlite:///path/wavedr.db or postgres://... (default $WAVEDR_DB, else wavedr.db in the data directory)")
	fs.StringVar(&s.dataDir, "data-dir", "", "directory of wavedr's local files (default $WAVEDR_DATA_DIR, else $XDG_DATA_HOME/wavedr or ~/.local/share/wavedr)")
}

// databaseURL returns the database to use: --db, else $WAVEDR_DB, else a
// SQLite file in the data directory, which it creates (mode 0700) if
// missing.
func (s *storeFlags) databaseURL(e *env) (string, error) {
	if s.db != "" {
		return s.db, nil
	}
	if u := e.getenv("WAVEDR_DB"); u != "" {
		return u, nil
	}
	dir, err := s.dataDirectory(e)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create the data directory: %w", err)
	}
	return "sqlite://" + filepath.ToSlash(filepath.Join(dir, "wavedr.db")), nil
}

// dataDirectory returns --data-dir, else $WAVEDR_DATA_DIR, else
// $XDG_DATA_HOME/wavedr, else ~/.local/share/wavedr, as an absolute path.
func (s *storeFlags) dataDirectory(e *env) (string, error) {
	dir := s.dataDir
	if dir == "" {
		dir = e.getenv("WAVEDR_DATA_DIR")
	}
	if dir == "" {
		if xdg := e.getenv("XDG_DATA_HOME"); xdg != "" {
			dir = filepath.Join(xdg, "wavedr")
		}
	}
	if dir == "" {
		home := e.getenv("HOME")
		if home == "" {
			return "", errors.New("no data directory: set --data-dir, WAVEDR_DATA_DIR or HOME")
		}
		dir = filepath.Join(home, ".local", "share", "wavedr")
	}
	return filepath.Abs(dir)
}
