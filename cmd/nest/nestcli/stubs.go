package nestcli

import (
	"errors"

	"github.com/spf13/cobra"
)

func (a *app) auditCommand() *cobra.Command {
	return &cobra.Command{Use: "audit", Short: "Check the keyspace against the schema", Hidden: true,
		RunE: runE(func(*cobra.Command, []string) error { return errors.New("not yet") })}
}

func (a *app) clearCommand() *cobra.Command {
	return &cobra.Command{Use: "clear", Short: "Clear a subtree", Hidden: true,
		RunE: runE(func(*cobra.Command, []string) error { return errors.New("not yet") })}
}
