package emulator

import (
	"errors"
	"os"
	"path/filepath"
)

// StateEnv names the environment variable that overrides the state file's
// path.
const StateEnv = "TOTPEMU_STATE"

// DefaultStatePath returns the state file's path: flag when not empty
// (the --state flag), else $TOTPEMU_STATE, else
// $XDG_CONFIG_HOME/totpemu/device.json, else ~/.config/totpemu/device.json.
// A relative $XDG_CONFIG_HOME is ignored, as the XDG spec asks.
func DefaultStatePath(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if p := os.Getenv(StateEnv); p != "" {
		return p, nil
	}
	if x := os.Getenv("XDG_CONFIG_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "totpemu", "device.json"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return "", errors.New("no state file path: set --state, $" + StateEnv + ", $XDG_CONFIG_HOME or $HOME")
	}
	return filepath.Join(home, ".config", "totpemu", "device.json"), nil
}
