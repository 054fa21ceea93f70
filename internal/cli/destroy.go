package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lowfare/lowfare/internal/deploy"
	"github.com/lowfare/lowfare/internal/ops"
	"github.com/lowfare/lowfare/internal/release"
	"github.com/lowfare/lowfare/internal/spec"
)

type destroyFlags struct {
	file       string
	yes        bool
	deleteData bool
	timeout    time.Duration
	poll       time.Duration
	cfnRole    string
}

func newDestroyCmd(opts *rootOptions) *cobra.Command {
	f := &destroyFlags{}
	c := &cobra.Command{
		Use:   "destroy",
		Short: "Delete the app's stacks; keep the table and its data unless --delete-data",
		Long: `destroy deletes the main stack, then the bootstrap stack (the ECR repository
and its images). It asks you to type the app name first, unless --yes.

The DynamoDB table has DeletionPolicy Retain: it survives, with its data,
unless --delete-data, which deletes it after the stacks are gone (its name is
read from the stack before deletion, or found by its generated name
<stack>-Table-* once the stack is gone, so a rerun still finds it). With
deletion protection on (profile ha), --delete-data stops before deleting
anything and says how to turn it off. SSM secrets under /lowfare/<app>/<env>/
are never deleted here ('lowfare secrets rm NAME'). destroy ends by listing
what remains.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDestroy(cmd.Context(), opts, f, cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}
	addSpecFlag(c, &f.file)
	c.Flags().BoolVar(&f.yes, "yes", false, "do not ask for the app name")
	c.Flags().BoolVar(&f.deleteData, "delete-data", false, "also delete the DynamoDB table and all its data")
	c.Flags().DurationVar(&f.timeout, "timeout", deploy.DefaultTimeout, "give up waiting for each stack after this long")
	c.Flags().DurationVar(&f.poll, "poll", deploy.DefaultPoll, "interval between status checks")
	_ = c.Flags().MarkHidden("poll")
	addCfnRoleFlag(c, &f.cfnRole)
	return c
}

func runDestroy(ctx context.Context, opts *rootOptions, f *destroyFlags, in io.Reader, out io.Writer) error {
	if f.timeout <= 0 {
		return usageErrf("--timeout %s: must be positive", f.timeout)
	}
	// No withRegion: destroy builds no template, and must still clean up
	// a stack that a spec refused for --region's region (a certificate
	// elsewhere) left behind. specAWS takes --region all the same.
	if err := checkRoleARN(f.cfnRole); err != nil {
		return err
	}
	s, err := loadSpec(opts, f.file)
	if err != nil {
		return err
	}
	cfg, err := specAWS(ctx, opts, s)
	if err != nil {
		return err
	}
	rn := newRunner(cfg, out, out, f.timeout, f.poll)
	rn.Stacks.RoleARN = f.cfnRole
	inv, err := rn.TakeStock(ctx, s)
	if err != nil {
		return err
	}
	if inv.TablesErr != nil && f.deleteData {
		return fmt.Errorf("--delete-data: %w; nothing was deleted", inv.TablesErr)
	}
	if stop := nothingToDelete(out, inv, f.deleteData); stop {
		return nil
	}
	if f.deleteData {
		// Deletion protection (profile ha) would stop DeleteTable only
		// after the stacks are gone: check first, delete nothing.
		if err := ops.CheckDeletable(inv.Tables); err != nil {
			return err
		}
	}
	if !f.yes {
		if err := confirmDestroy(in, out, inv, f.deleteData); err != nil {
			return err
		}
	}
	done, err := rn.Destroy(ctx, inv, f.deleteData)
	if err != nil {
		return err
	}
	printRemains(out, inv.Spec, rn.Remains(ctx, inv, done))
	return nil
}

// nothingToDelete says so, and reports true, when destroy has nothing to
// do: no stack, and no table or only kept tables without --delete-data.
func nothingToDelete(out io.Writer, inv *release.Inventory, deleteData bool) bool {
	switch {
	case inv.Empty() && inv.TablesErr != nil:
		fmt.Fprintf(out, "Nothing to destroy: stacks %s and %s do not exist in %s (tables %s* could not be listed: %v).\n", inv.Main, inv.Bootstrap, inv.Region, ops.TablePrefix(inv.Spec), inv.TablesErr)
	case inv.Empty():
		fmt.Fprintf(out, "Nothing to destroy: stacks %s and %s and tables %s* do not exist in %s.\n", inv.Main, inv.Bootstrap, ops.TablePrefix(inv.Spec), inv.Region)
	case !inv.MainExists && !inv.BootstrapExists && !deleteData:
		fmt.Fprintf(out, "Stacks %s and %s do not exist in %s; the kept table %s and its data remain (delete them with lowfare destroy --delete-data).\n", inv.Main, inv.Bootstrap, inv.Region, strings.Join(inv.TableNames(), ", "))
	default:
		return false
	}
	return true
}

// confirmDestroy says what is about to be deleted and asks for the app
// name; anything else deletes nothing (exit 2).
func confirmDestroy(in io.Reader, out io.Writer, inv *release.Inventory, deleteData bool) error {
	var what []string
	if inv.MainExists {
		what = append(what, "stack "+inv.Main)
	}
	if inv.BootstrapExists {
		what = append(what, "stack "+inv.Bootstrap)
	}
	tables := strings.Join(inv.TableNames(), ", ")
	data := "The table " + orUnknown(tables) + " and its data are kept."
	if deleteData {
		data = "The table " + orUnknown(tables) + " and ALL ITS DATA are deleted too."
		what = append(what, "table "+tables)
	}
	app := inv.Spec.App
	fmt.Fprintf(out, "This deletes %s in %s. %s\nType the app name (%s) to confirm: ", strings.Join(what, " and "), inv.Region, data, app)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		return usageErrf("no confirmation read from stdin: nothing was deleted (use --yes to skip the question)")
	}
	if got := strings.TrimSpace(line); got != app {
		return usageErrf("you typed %q, not the app name %q: nothing was deleted", got, app)
	}
	return nil
}

// printRemains lists what destroy left, each with how to delete it.
func printRemains(out io.Writer, s *spec.Spec, r *release.Remains) {
	fmt.Fprintln(out, "\nStill there:")
	deploy.PrintRetained(out, r.Retained)
	for _, t := range r.Tables {
		fmt.Fprintf(out, "  AWS::DynamoDB::Table %s (DeletionPolicy Retain); delete it with: lowfare destroy --delete-data\n", t)
	}
	if r.TablesErr != nil {
		fmt.Fprintf(out, "  DynamoDB tables %s* (could not list them: %v)\n", ops.TablePrefix(s), r.TablesErr)
	}
	if r.SecretsErr != nil {
		fmt.Fprintf(out, "  SSM parameters under %s (could not list them: %v)\n", s.SecretPrefix(), r.SecretsErr)
	}
	for _, snap := range r.DatabaseSnapshots {
		fmt.Fprintf(out, "  RDS cluster snapshot %s (the database's data, billed as backup storage); delete it with: lowfare destroy --delete-data\n", snap)
	}
	if r.DatabaseErr != nil {
		fmt.Fprintf(out, "  database snapshots (could not list them: %v)\n", r.DatabaseErr)
	}
	for _, sec := range r.Secrets {
		if s.HasDatabase() && sec.Name == spec.DatabasePasswordName {
			// lowfare secrets rm refuses it: a cluster restored from a
			// snapshot still needs it.
			fmt.Fprintf(out, "  SSM SecureString %s (the database's password, for its snapshots); once none is left: aws ssm delete-parameter --name %s\n", sec.Parameter, sec.Parameter)
			continue
		}
		fmt.Fprintf(out, "  SSM SecureString %s; delete it with: lowfare secrets rm %s\n", sec.Parameter, sec.Name)
	}
	if r.Empty() {
		fmt.Fprintln(out, "  nothing")
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "(name unknown)"
	}
	return s
}
