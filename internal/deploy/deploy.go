// Package deploy creates, updates and deletes CloudFormation stacks through
// change sets, streaming stack events as they come, and reads outputs back.
// It knows nothing of lowfare's templates: a stack is a name, a JSON body
// and parameters, so data flows one way (stack -> template -> deploy).
package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/lowfare/lowfare/internal/awsconf"
	"github.com/lowfare/lowfare/internal/cfn"
	"github.com/lowfare/lowfare/internal/wait"
)

// Defaults for a Deployer's zero fields.
const (
	DefaultTimeout = 30 * time.Minute
	DefaultPoll    = 5 * time.Second
)

// API is the part of the CloudFormation client a deploy uses;
// *cloudformation.Client implements it.
type API interface {
	CreateChangeSet(context.Context, *cloudformation.CreateChangeSetInput, ...func(*cloudformation.Options)) (*cloudformation.CreateChangeSetOutput, error)
	DescribeChangeSet(context.Context, *cloudformation.DescribeChangeSetInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeChangeSetOutput, error)
	ExecuteChangeSet(context.Context, *cloudformation.ExecuteChangeSetInput, ...func(*cloudformation.Options)) (*cloudformation.ExecuteChangeSetOutput, error)
	DeleteChangeSet(context.Context, *cloudformation.DeleteChangeSetInput, ...func(*cloudformation.Options)) (*cloudformation.DeleteChangeSetOutput, error)
	DescribeStacks(context.Context, *cloudformation.DescribeStacksInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
	DescribeStackEvents(context.Context, *cloudformation.DescribeStackEventsInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeStackEventsOutput, error)
	DescribeStackResources(context.Context, *cloudformation.DescribeStackResourcesInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeStackResourcesOutput, error)
	DeleteStack(context.Context, *cloudformation.DeleteStackInput, ...func(*cloudformation.Options)) (*cloudformation.DeleteStackOutput, error)
}

// Stack is one stack to deploy.
type Stack struct {
	Name       string
	Body       []byte // the template, JSON
	Parameters map[string]string
	Tags       map[string]string // stack tags, propagated to resources by CloudFormation
	// CreateParameters join Parameters only on the change set that creates
	// the stack (a first count that later deploys must not reset).
	CreateParameters map[string]string
}

// Deployer runs stack operations and reports progress to Out.
type Deployer struct {
	CFN API
	Out io.Writer
	// Live rewrites one progress line in place (for a terminal); otherwise
	// progress is plain lines only.
	Live bool
	// Timeout bounds each stack operation, change set included
	// (DefaultTimeout when zero).
	Timeout time.Duration
	// Poll is the interval between status checks (DefaultPoll when zero).
	Poll time.Duration
	// Location formats event times (time.Local when nil).
	Location *time.Location
	// RoleARN, when set, is the CloudFormation service role every change
	// set and stack delete passes: CloudFormation then creates, changes and
	// deletes the resources with that role's permissions, not the
	// caller's (lowfare ci's deploy role may only change stacks this way).
	RoleARN string
}

// roleARN is RoleARN for a request: nil when unset.
func (d *Deployer) roleARN() *string {
	if d.RoleARN == "" {
		return nil
	}
	return aws.String(d.RoleARN)
}

// Result is a finished deploy of one stack.
type Result struct {
	StackID string
	Status  string
	Changed bool // false: the change set had no changes
	Outputs map[string]string
}

// Change is one resource change of a change set.
type Change struct {
	Action      string // Add, Modify, Remove, Import, Dynamic
	LogicalID   string
	Type        string
	Replacement string // True, False, Conditional; empty for Add and Remove
}

// ErrStackNotFound is returned for a stack that does not exist: the one
// value every package that reads stacks wraps (awsconf.ErrStackNotFound).
var ErrStackNotFound = awsconf.ErrStackNotFound

// FailedError is a stack operation that ended in failure.
type FailedError struct {
	Stack    string
	Status   string // the final stack status, such as UPDATE_ROLLBACK_COMPLETE
	Resource string // the first resource that failed, with its type
	Reason   string
	// Retained are the resources the rollback kept (DELETE_SKIPPED): they
	// still exist outside any stack and may cost money.
	Retained []Retained
}

func (e *FailedError) Error() string {
	what := e.Resource
	if what == "" {
		what = "the stack"
	}
	return fmt.Sprintf("stack %s failed (%s): %s: %s", e.Stack, e.Status, what, e.Reason)
}

// TimeoutError is a wait that ran out of time; CloudFormation carries on.
// Deploy and Delete both return it, so its advice names neither command.
type TimeoutError struct {
	Stack, Status string
	After         time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("timed out after %s waiting for stack %s (still %s); CloudFormation carries on: check it with `lowfare status`, or run the command again with a longer --timeout", e.After, e.Stack, e.Status)
}

func (d *Deployer) timeout() time.Duration {
	if d.Timeout > 0 {
		return d.Timeout
	}
	return DefaultTimeout
}

func (d *Deployer) poll() time.Duration {
	if d.Poll > 0 {
		return d.Poll
	}
	return DefaultPoll
}

func (d *Deployer) printf(format string, args ...any) {
	fmt.Fprintf(d.Out, format, args...)
}

// Deploy creates or updates the stack through a change set and waits for
// the result. An update without changes is not an error (Changed false).
// A stack left ROLLBACK_COMPLETE by a failed first deploy is deleted and
// created again.
func (d *Deployer) Deploy(ctx context.Context, s Stack) (*Result, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	cur, err := d.current(ctx, s)
	if err != nil {
		return nil, err
	}
	if cur != nil && failedCreate(cur) {
		if err := d.recreate(ctx, s.Name, cur); err != nil {
			return nil, err
		}
		cur = nil
	}
	cs, err := d.createChangeSet(ctx, s, cur)
	if err != nil {
		return nil, err
	}
	if cs.noChanges {
		return d.unchanged(ctx, s.Name, cur, cs.stackID)
	}
	return d.execute(ctx, s.Name, cs)
}

// Plan creates the change set, returns its changes and deletes it again:
// nothing is changed (a stack that did not exist is removed again too).
func (d *Deployer) Plan(ctx context.Context, s Stack) ([]Change, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	cur, err := d.current(ctx, s)
	if err != nil {
		return nil, err
	}
	if cur != nil && failedCreate(cur) {
		return nil, fmt.Errorf("stack %s is %s from a failed first deploy; a deploy deletes and recreates it, so there is no change set to show", s.Name, cur.StackStatus)
	}
	cs, err := d.createChangeSet(ctx, s, cur)
	if err != nil || cs.noChanges {
		return nil, err
	}
	d.deleteChangeSet(ctx, cs.id)
	if cur == nil { // CreateChangeSet made an empty REVIEW_IN_PROGRESS stack; remove it
		if err := d.removeEmpty(ctx, s.Name, cs.stackID); err != nil {
			return nil, err
		}
	}
	return cs.changes, nil
}

// current is the stack as it is (nil when it does not exist), checked for
// what stops any change set: a template over the inline limit, a stack
// busy with another operation.
func (d *Deployer) current(ctx context.Context, s Stack) (*types.Stack, error) {
	if len(s.Body) > cfn.MaxTemplateBody {
		return nil, fmt.Errorf("stack %s: template is %d bytes; CloudFormation takes at most %d inline", s.Name, len(s.Body), cfn.MaxTemplateBody)
	}
	cur, err := d.describe(ctx, s.Name)
	if errors.Is(err, ErrStackNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, d.wrap(ctx, s.Name, "", err)
	}
	if st := string(cur.StackStatus); st != "REVIEW_IN_PROGRESS" && strings.HasSuffix(st, "_IN_PROGRESS") {
		return nil, fmt.Errorf("stack %s is busy (%s): wait until it finishes (lowfare status), then deploy again", s.Name, st)
	}
	return cur, nil
}

// failedCreate reports a stack whose first deploy failed and rolled back:
// it cannot be updated, only deleted.
func failedCreate(st *types.Stack) bool {
	return st.StackStatus == types.StackStatusRollbackComplete || st.StackStatus == types.StackStatusRollbackFailed
}

// recreate deletes a stack left by a failed first deploy, naming the
// resources its rollback kept, so that it can be created again.
func (d *Deployer) recreate(ctx context.Context, name string, cur *types.Stack) error {
	d.printf("Stack %s is %s from a failed first deploy; deleting it before creating it again.\n", name, cur.StackStatus)
	if kept, err := d.skipped(ctx, name); err == nil && len(kept) > 0 {
		d.printf("That deploy's rollback kept these resources; they stay after the stack is gone:\n")
		PrintRetained(d.Out, kept)
	}
	_, err := d.deleteAndWait(ctx, name, aws.ToString(cur.StackId))
	return err
}

// changeSet is a change set ready to execute or to show, or the news that
// CloudFormation found nothing to do (and none is left behind).
type changeSet struct {
	id, stackID string
	kind        types.ChangeSetType
	changes     []Change
	noChanges   bool
}

// createChangeSet makes the change set that brings cur (nil: no stack yet)
// to s and waits until CloudFormation has computed it. From its return on,
// a change set with changes must be executed or deleted.
func (d *Deployer) createChangeSet(ctx context.Context, s Stack, cur *types.Stack) (*changeSet, error) {
	kind := types.ChangeSetTypeUpdate
	if cur == nil || cur.StackStatus == types.StackStatusReviewInProgress {
		kind = types.ChangeSetTypeCreate
	}
	in := changeSetInput(s, kind)
	in.RoleARN = d.roleARN()
	created, err := d.CFN.CreateChangeSet(ctx, in)
	if err != nil && cur != nil && noChanges(err.Error()) {
		// Some endpoints (moto; CloudFormation itself for some updates)
		// refuse the change set outright instead of making a FAILED one;
		// the AWS CLI's deploy treats both as "no changes", and so do we
		// (awscli customizations/cloudformation/deployer.py).
		return &changeSet{stackID: aws.ToString(cur.StackId), kind: kind, noChanges: true}, nil
	}
	if err != nil {
		return nil, d.wrap(ctx, s.Name, "", fmt.Errorf("creating a change set for stack %s: %w", s.Name, err))
	}
	cs := &changeSet{id: aws.ToString(created.Id), stackID: aws.ToString(created.StackId), kind: kind}
	changes, status, reason, err := d.waitChangeSet(ctx, s.Name, cs.id)
	if err != nil {
		return nil, err
	}
	if status == types.ChangeSetStatusFailed {
		d.deleteChangeSet(ctx, cs.id)
		if !noChanges(reason) {
			return nil, fmt.Errorf("stack %s: the change set failed: %s", s.Name, reason)
		}
		cs.noChanges = true
	}
	cs.changes = changes
	return cs, nil
}

// changeSetInput is the CreateChangeSet request for s: its parameters
// (CreateParameters too when the change set creates the stack) and tags
// in a stable order.
func changeSetInput(s Stack, kind types.ChangeSetType) *cloudformation.CreateChangeSetInput {
	now := time.Now().UTC()
	in := &cloudformation.CreateChangeSetInput{
		StackName:     aws.String(s.Name),
		ChangeSetName: aws.String(fmt.Sprintf("lowfare-%s-%09d", now.Format("20060102-150405"), now.Nanosecond())),
		ChangeSetType: kind,
		TemplateBody:  aws.String(string(s.Body)),
		Capabilities:  []types.Capability{types.CapabilityCapabilityIam, types.CapabilityCapabilityNamedIam},
		Description:   aws.String("lowfare deploy"),
	}
	params := maps.Clone(s.Parameters)
	if kind == types.ChangeSetTypeCreate && len(s.CreateParameters) > 0 {
		if params == nil {
			params = map[string]string{}
		}
		maps.Copy(params, s.CreateParameters)
	}
	for _, k := range slices.Sorted(maps.Keys(params)) {
		in.Parameters = append(in.Parameters, types.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(params[k])})
	}
	for _, k := range slices.Sorted(maps.Keys(s.Tags)) {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(s.Tags[k])})
	}
	return in
}

// unchanged is the result of a deploy with nothing to do: the stack as it
// is, with its outputs.
func (d *Deployer) unchanged(ctx context.Context, name string, cur *types.Stack, stackID string) (*Result, error) {
	if cur == nil {
		return &Result{StackID: stackID}, nil
	}
	outputs, err := d.Outputs(ctx, name)
	if err != nil {
		return nil, err
	}
	return &Result{StackID: stackID, Status: string(cur.StackStatus), Outputs: outputs}, nil
}

// execute runs the change set and follows the stack's events until it
// succeeds or fails.
func (d *Deployer) execute(ctx context.Context, name string, cs *changeSet) (*Result, error) {
	w := &watcher{d: d, stack: name, stackID: cs.stackID, total: len(cs.changes), done: map[string]bool{}}
	if err := w.mark(ctx); err != nil {
		d.deleteChangeSet(ctx, cs.id)
		return nil, d.wrap(ctx, name, "", err)
	}
	verb := "Updating"
	if cs.kind == types.ChangeSetTypeCreate {
		verb = "Creating"
	}
	d.printf("%s stack %s: %d resource %s.\n", verb, name, len(cs.changes), plural(len(cs.changes), "change", "changes"))
	if _, err := d.CFN.ExecuteChangeSet(ctx, &cloudformation.ExecuteChangeSetInput{ChangeSetName: aws.String(cs.id)}); err != nil {
		d.deleteChangeSet(ctx, cs.id)
		return nil, d.wrap(ctx, name, "", fmt.Errorf("executing the change set for stack %s: %w", name, err))
	}
	final, err := w.wait(ctx)
	if err != nil {
		return nil, err
	}
	if !succeeded(final.StackStatus) {
		return nil, w.failure(final)
	}
	d.printf("Stack %s: %s in %s.\n", name, final.StackStatus, w.elapsed())
	return &Result{StackID: cs.stackID, Status: string(final.StackStatus), Changed: true, Outputs: outputMap(final.Outputs)}, nil
}

// removeEmpty deletes the REVIEW_IN_PROGRESS stack a CREATE change set
// made, quietly, and waits until it is gone.
func (d *Deployer) removeEmpty(ctx context.Context, name, id string) error {
	if _, err := d.CFN.DeleteStack(ctx, &cloudformation.DeleteStackInput{StackName: aws.String(id), RoleARN: d.roleARN()}); err != nil {
		return d.wrap(ctx, name, "", fmt.Errorf("removing the empty stack %s the dry run created: %w", name, err))
	}
	for {
		st, err := d.describe(ctx, id)
		if errors.Is(err, ErrStackNotFound) || err == nil && st.StackStatus == types.StackStatusDeleteComplete {
			return nil
		}
		if err != nil {
			return d.wrap(ctx, name, "", err)
		}
		if st.StackStatus == types.StackStatusDeleteFailed {
			return fmt.Errorf("removing the empty stack %s the dry run created: %s", name, aws.ToString(st.StackStatusReason))
		}
		if err := wait.Sleep(ctx, d.poll()); err != nil {
			return d.wrap(ctx, name, string(st.StackStatus), err)
		}
	}
}

// waitChangeSet polls until the change set is ready or failed, then reads
// all its changes (paginated).
func (d *Deployer) waitChangeSet(ctx context.Context, stack, id string) ([]Change, types.ChangeSetStatus, string, error) {
	for {
		out, err := d.CFN.DescribeChangeSet(ctx, &cloudformation.DescribeChangeSetInput{ChangeSetName: aws.String(id)})
		if err != nil {
			d.deleteChangeSet(ctx, id)
			return nil, "", "", d.wrap(ctx, stack, "change set "+string(types.ChangeSetStatusCreateInProgress), fmt.Errorf("describing the change set for stack %s: %w", stack, err))
		}
		switch out.Status {
		case types.ChangeSetStatusFailed:
			return nil, out.Status, aws.ToString(out.StatusReason), nil
		case types.ChangeSetStatusCreateComplete:
			changes := appendChanges(nil, out.Changes)
			for token := out.NextToken; token != nil; {
				page, err := d.CFN.DescribeChangeSet(ctx, &cloudformation.DescribeChangeSetInput{ChangeSetName: aws.String(id), NextToken: token})
				if err != nil {
					d.deleteChangeSet(ctx, id)
					return nil, "", "", d.wrap(ctx, stack, "", fmt.Errorf("reading the change set for stack %s: %w", stack, err))
				}
				changes = appendChanges(changes, page.Changes)
				token = page.NextToken
			}
			return changes, out.Status, "", nil
		}
		if err := wait.Sleep(ctx, d.poll()); err != nil {
			d.deleteChangeSet(context.WithoutCancel(ctx), id)
			return nil, "", "", d.wrap(ctx, stack, "change set "+string(out.Status), err)
		}
	}
}

func appendChanges(to []Change, cs []types.Change) []Change {
	for _, c := range cs {
		rc := c.ResourceChange
		if rc == nil {
			continue
		}
		to = append(to, Change{
			Action:      string(rc.Action),
			LogicalID:   aws.ToString(rc.LogicalResourceId),
			Type:        aws.ToString(rc.ResourceType),
			Replacement: string(rc.Replacement),
		})
	}
	return to
}

// deleteChangeSet removes a change set on a best-effort basis, with its
// own short deadline so it runs even after ctx expired.
func (d *Deployer) deleteChangeSet(ctx context.Context, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_, _ = d.CFN.DeleteChangeSet(ctx, &cloudformation.DeleteChangeSetInput{ChangeSetName: aws.String(id)})
}

// noChanges recognises CloudFormation's "nothing to do" reasons.
func noChanges(reason string) bool {
	return strings.Contains(reason, "didn't contain changes") || strings.Contains(reason, "No updates are to be performed")
}

// describe returns the stack, or ErrStackNotFound.
func (d *Deployer) describe(ctx context.Context, nameOrID string) (*types.Stack, error) {
	out, err := d.CFN.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(nameOrID)})
	if err != nil {
		if awsconf.IsStackNotFound(err) {
			return nil, ErrStackNotFound
		}
		return nil, fmt.Errorf("describing stack %s: %w", nameOrID, err)
	}
	if len(out.Stacks) == 0 {
		return nil, ErrStackNotFound
	}
	return &out.Stacks[0], nil
}

// Outputs returns the stack's outputs, or ErrStackNotFound.
func (d *Deployer) Outputs(ctx context.Context, name string) (map[string]string, error) {
	st, err := d.describe(ctx, name)
	if err != nil {
		return nil, err
	}
	return outputMap(st.Outputs), nil
}

func outputMap(outs []types.Output) map[string]string {
	m := map[string]string{}
	for _, o := range outs {
		m[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	return m
}

// OrderedOutputs lists output keys with first (the URL) leading, the rest
// sorted.
func OrderedOutputs(outputs map[string]string, first string) []string {
	keys := slices.Sorted(maps.Keys(outputs))
	sort.SliceStable(keys, func(i, j int) bool { return keys[i] == first && keys[j] != first })
	return keys
}

// PrintOutputs writes the outputs, first leading, aligned.
func PrintOutputs(w io.Writer, outputs map[string]string, first string) {
	keys := OrderedOutputs(outputs, first)
	width := 0
	for _, k := range keys {
		width = max(width, len(k))
	}
	for _, k := range keys {
		fmt.Fprintf(w, "  %-*s  %s\n", width, k, outputs[k])
	}
}

// PrintChanges writes a change set as a table.
func PrintChanges(w io.Writer, stack string, changes []Change) {
	if len(changes) == 0 {
		fmt.Fprintf(w, "Stack %s: no changes.\n", stack)
		return
	}
	fmt.Fprintf(w, "Stack %s: %d %s\n", stack, len(changes), plural(len(changes), "change", "changes"))
	fmt.Fprintf(w, "  %-8s %-32s %-44s %s\n", "ACTION", "LOGICAL ID", "TYPE", "REPLACEMENT")
	for _, c := range changes {
		repl := c.Replacement
		if repl == "" {
			repl = "-"
		}
		fmt.Fprintf(w, "  %-8s %-32s %-44s %s\n", c.Action, c.LogicalID, c.Type, repl)
	}
}

// wrap turns a context expiry into a TimeoutError.
func (d *Deployer) wrap(ctx context.Context, stack, status string, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		if status == "" {
			status = "waiting"
		}
		return &TimeoutError{Stack: stack, Status: status, After: d.timeout()}
	}
	return err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
