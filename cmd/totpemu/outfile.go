package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// checkOutFile checks, before a command starts its work, that the file
// named by flag (--out) can be written: a long bench must not run for
// minutes to fail on a missing directory at the end.
func checkOutFile(cmd, flag, path string) error {
	if path == "" {
		return usageErr("give a file name, e.g. "+flag+" report.json", "%s: %s: empty file name", cmd, flag)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return usageErr("give a file name inside it", "%s: %s %s: is a directory", cmd, flag, path)
	}
	dir := filepath.Dir(path)
	di, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return usageErr("create it first: mkdir -p "+dir, "%s: %s %s: directory %s does not exist", cmd, flag, path, dir)
	case err != nil:
		return usageErr("", "%s: %s %s: %v", cmd, flag, path, pathless(err))
	case !di.IsDir():
		return usageErr("", "%s: %s %s: %s is not a directory", cmd, flag, path, dir)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".check*")
	if err != nil {
		return usageErr("choose a directory you can write to", "%s: %s %s: cannot create a file in %s: %v", cmd, flag, path, dir, pathless(err))
	}
	tmp.Close()
	os.Remove(tmp.Name())
	return nil
}

// pathless drops the path of a *fs.PathError (a temporary file's name,
// which means nothing to the user) and keeps its reason.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// writeReport writes through fn to stdout, or to path atomically: a
// temporary file in the same directory, synced, then renamed, so the file
// is never seen half-written and an old report survives a failure.
func writeReport(e *env, path string, fn func(io.Writer) error) error {
	if path == "" {
		return fn(e.stdout)
	}
	var buf bytes.Buffer
	if err := fn(&buf); err != nil {
		return err
	}
	if err := writeFileAtomic(path, buf.Bytes()); err != nil {
		return inputErr(fmt.Errorf("scan: --out %s: %w", path, err), "")
	}
	return nil
}

// writeFileAtomic writes data to path through a temporary file beside it.
// Its errors name no temporary file: the caller names path.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return pathless(err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = pathless(err)
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Chmod(0o644); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
