package nestcli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes of the nest command, documented in its help.
const (
	ExitOK       = 0 // success
	ExitFindings = 1 // audit found problems
	ExitUsage    = 2 // a mistake on the command line
	ExitError    = 3 // connection or other error
)

// ErrFindings is returned by `nest audit` when it found problems (exit
// status 1); the report has been printed.
var ErrFindings = errors.New("findings")

// UsageError is a mistake on the command line (exit status 2).
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usageErrorf(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// runError marks an error returned by a command's own code, so that
// ExitCode tells it from cobra's parsing errors (unknown commands and
// flags, wrong argument counts), which are usage errors.
type runError struct{ err error }

func (e *runError) Error() string { return e.err.Error() }
func (e *runError) Unwrap() error { return e.err }

// runE wraps a command's function so that its errors are told apart.
func runE(fn func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := fn(cmd, args); err != nil {
			return &runError{err: err}
		}
		return nil
	}
}

// ExitCode returns the exit status for an error returned by executing a
// command of this package: 0 for nil, 1 for audit findings, 2 for a
// usage mistake, 3 for any other error.
func ExitCode(err error) int {
	var ue *UsageError
	var re *runError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, ErrFindings):
		return ExitFindings
	case errors.As(err, &ue):
		return ExitUsage
	case errors.As(err, &re):
		return ExitError
	default:
		return ExitUsage // cobra's own: unknown command or flag, argument count
	}
}

// report prints err for the command cmd (the one ExecuteC returned) the
// way the nest command does: one line, and for a usage mistake a pointer
// to the command's help rather than the whole of it.
func report(w io.Writer, cmd *cobra.Command, err error) {
	if err == nil || errors.Is(err, ErrFindings) {
		return
	}
	path := cmd.CommandPath()
	msg := strings.TrimSpace(err.Error())
	fmt.Fprintf(w, "%s: %s\n", path, msg)
	if ExitCode(err) == ExitUsage {
		fmt.Fprintf(w, "Run '%s --help' for usage.\n", path)
	}
}
