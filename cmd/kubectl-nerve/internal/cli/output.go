package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/printers"
)

// Report kinds `-o` prints for commands whose output is not an API object.
const reportAPIVersion = "nerve.io/v1alpha1"

// outputFlags is -o for a read command: "" and wide are nerve's human output, everything else
// goes to cli-runtime's printers.
type outputFlags struct {
	print *printFlags
}

func newOutputFlags() *outputFlags {
	return &outputFlags{print: newPrintFlags()}
}

func (o *outputFlags) AddFlags(cmd *cobra.Command) {
	o.print.addFlags(cmd)
	cmd.Flag("output").Usage = "Output format. One of: (" + strings.Join(o.formats(), ", ") + "). Default: human-readable."
}

func (o *outputFlags) formats() []string {
	return append([]string{"wide"}, o.print.allowedFormats()...)
}

func (o *outputFlags) format() string { return o.print.output }

// Human reports whether nerve's own text output is wanted.
func (o *outputFlags) Human() bool { return o.format() == "" || o.format() == "wide" }

// Wide reports -o wide.
func (o *outputFlags) Wide() bool { return o.format() == "wide" }

// Validate checks the format.
func (o *outputFlags) Validate() error {
	if o.Human() {
		return nil
	}
	if _, err := o.print.toPrinter(); err != nil {
		return usageError("%v", err)
	}
	return nil
}

// Print writes obj with the selected printer.
func (o *outputFlags) Print(obj runtime.Object, w io.Writer) error {
	p, err := o.print.toPrinter()
	if err != nil {
		return err
	}
	if _, isList := obj.(*unstructured.UnstructuredList); isList && o.format() == "name" {
		return printNames(obj.(*unstructured.UnstructuredList), p, w)
	}
	return p.PrintObj(obj, w)
}

func printNames(list *unstructured.UnstructuredList, p printers.ResourcePrinter, w io.Writer) error {
	for i := range list.Items {
		if err := p.PrintObj(&list.Items[i], w); err != nil {
			return err
		}
	}
	return nil
}

// report turns a Go value into an unstructured object of kind with the name.
func report(kind, name string, body any) (*unstructured.Unstructured, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	obj := map[string]any{}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("report %s: %w", kind, err)
	}
	obj["apiVersion"] = reportAPIVersion
	obj["kind"] = kind
	obj["metadata"] = map[string]any{"name": name}
	return &unstructured.Unstructured{Object: obj}, nil
}
