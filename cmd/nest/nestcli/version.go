package nestcli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/redisimnest/nest"
)

func versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the versions of nest, of the library and of Go",
		Args:  noArgs,
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			cmdV, libV := "(devel)", "(devel)"
			if bi, ok := debug.ReadBuildInfo(); ok {
				if bi.Main.Version != "" {
					cmdV = bi.Main.Version
				}
				for _, d := range bi.Deps {
					if d.Path == "github.com/redisimnest/nest" {
						libV = d.Version
						if d.Replace != nil {
							libV = d.Replace.Path
							if d.Replace.Version != "" {
								libV = d.Replace.Version
							}
						}
					}
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "nest %s (library %s, schema export version %d, %s %s/%s)\n",
				cmdV, libV, nest.SchemaVersion, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		}),
	}
}
