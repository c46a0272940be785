package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// NewCmdSet is `set`, the parent of `set image`.
func NewCmdSet(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	return newGroupCmd("set", "Change a rollout's pod template", "image", NewCmdSetImage(streams, f))
}

// SetImageOptions are the options of `set image`.
type SetImageOptions struct {
	genericiooptions.IOStreams
	rolloutTarget
	f *Factory

	Images map[string]string
	order  []string
	guard  selfHealGuard
}

// NewCmdSetImage is `set image NAME CONTAINER=IMAGE...` (`*=IMAGE` sets every container).
func NewCmdSetImage(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	o := &SetImageOptions{IOStreams: streams, f: f}
	cmd := &cobra.Command{
		Use:               "image NAME CONTAINER=IMAGE...",
		Short:             "Set container images of a rollout (starts a canary); *=IMAGE sets every container",
		Example:           "  kubectl nerve set image mllp-listener listener=registry.local/mllp:1.4.2",
		ValidArgsFunction: rolloutNames(f),
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return usageError("%s: expected NAME CONTAINER=IMAGE...", cmd.CommandPath())
			}
			return nil
		},
		RunE: runOptions(o),
	}
	o.guard.AddFlags(cmd)
	return cmd
}

// Complete parses the CONTAINER=IMAGE pairs, then fills the name and clients.
func (o *SetImageOptions) Complete(args []string) error {
	o.Images = map[string]string{}
	for _, a := range args[1:] {
		ctr, img, ok := strings.Cut(a, "=")
		if !ok || ctr == "" || img == "" {
			return usageError("%q: want CONTAINER=IMAGE", a)
		}
		o.Images[ctr] = img
		o.order = append(o.order, ctr)
	}
	return o.complete(o.f, args, false)
}

// Validate has nothing more to check.
func (o *SetImageOptions) Validate() error { return nil }

// Run updates the images (a read-modify-update, as Argo's CLI does).
func (o *SetImageOptions) Run(ctx context.Context) error {
	u, err := o.c.rollouts().Get(ctx, o.Name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if _, ok, _ := unstructured.NestedMap(u.Object, "spec", "workloadRef"); ok {
		return fmt.Errorf("rollout %s uses spec.workloadRef; set the image on the referenced workload", o.Name)
	}
	if err := o.guard.check(ctx, o.f, u, "set image", o.ErrOut); err != nil {
		return err
	}
	for _, ctr := range o.order {
		if err := setImage(u, ctr, o.Images[ctr]); err != nil {
			return err
		}
	}
	if _, err := o.c.rollouts().Update(ctx, u, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("update rollout %s: %w", o.Name, err)
	}
	return printf(o.Out, "rollout \"%s\" image updated\n", o.Name)
}

func setImage(u *unstructured.Unstructured, container, image string) error {
	found := false
	for _, field := range []string{"initContainers", "containers", "ephemeralContainers"} {
		list, ok, err := unstructured.NestedSlice(u.Object, "spec", "template", "spec", field)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		for _, item := range list {
			ctr, isMap := item.(map[string]any)
			if !isMap {
				continue
			}
			if name, _ := ctr["name"].(string); name == container || container == "*" {
				ctr["image"] = image
				found = true
			}
		}
		if err := unstructured.SetNestedSlice(u.Object, list, "spec", "template", "spec", field); err != nil {
			return err
		}
	}
	if !found {
		return fmt.Errorf("unable to find container named %q", container)
	}
	return nil
}
