package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/joho/godotenv"
)

// dotEnvFile is the settings file the commands read from the current
// directory, as the original package read its .env.
const dotEnvFile = ".env"

// loadDotEnv sets, from the file at path (KEY=value lines, '#' comments,
// quotes and "export" as godotenv reads them), the variables that the
// environment does not set: a variable already set, even to "", wins. A
// missing file is not an error.
//
// The file holds passwords and keys, so no error quotes it: godotenv's
// parse errors, which quote the rest of the file, are replaced by their
// kind.
func loadDotEnv(path string) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err // *fs.PathError: the path and the cause, not the contents
	}
	vars, err := godotenv.UnmarshalBytes(b)
	if err != nil {
		kind := "it is not a list of KEY=value lines"
		switch msg := err.Error(); {
		case strings.HasPrefix(msg, "unterminated quoted value"):
			kind = "a quoted value is not closed"
		case strings.HasPrefix(msg, "unexpected character"):
			kind = "a variable name holds a character other than A-Z, a-z, 0-9, '_' and '.'"
		}
		return fmt.Errorf("%s: %s (its contents are not shown: they may hold passwords)", path, kind)
	}
	for k, v := range vars {
		if _, set := os.LookupEnv(k); !set {
			if err := os.Setenv(k, v); err != nil {
				return fmt.Errorf("%s: setting %s: %v", path, k, err)
			}
		}
	}
	return nil
}
