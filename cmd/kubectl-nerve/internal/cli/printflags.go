package cli

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/printers"
)

// printFlags are kubectl's -o flags (-o/--output, --template, --allow-missing-template-keys,
// --show-managed-fields) and their choice of cli-runtime printer: the flags and behaviour of
// genericclioptions.NewPrintFlags(""), which nerve does not link (see ConfigFlags).
type printFlags struct {
	output            string
	template          string
	allowMissingKeys  bool
	showManagedFields bool
	outputChanged     func() bool
}

func newPrintFlags() *printFlags { return &printFlags{allowMissingKeys: true} }

// The output formats by printer family.
func jsonYAMLFormats() []string { return []string{"json", "yaml", "kyaml"} }
func goTemplateFormats() []string {
	return []string{"go-template", "go-template-file", "template", "templatefile"}
}
func jsonPathFormats() []string { return []string{"jsonpath", "jsonpath-as-json", "jsonpath-file"} }

// allowedFormats are the -o values, in kubectl's order.
func (f *printFlags) allowedFormats() []string {
	return slices.Concat(jsonYAMLFormats(), []string{"name"}, goTemplateFormats(), jsonPathFormats())
}

func (f *printFlags) addFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.BoolVar(&f.showManagedFields, "show-managed-fields", f.showManagedFields, "If true, keep the managedFields when printing objects in JSON or YAML format.")
	fs.StringVar(&f.template, "template", f.template, "Template string or path to template file to use when -o=go-template, -o=go-template-file. The template format is golang templates [http://golang.org/pkg/text/template/#pkg-overview].")
	_ = cmd.MarkFlagFilename("template")
	fs.BoolVar(&f.allowMissingKeys, "allow-missing-template-keys", f.allowMissingKeys, "If true, ignore any errors in templates when a field or map key is missing in the template. Only applies to golang and jsonpath output formats.")
	fs.StringVarP(&f.output, "output", "o", f.output, fmt.Sprintf("Output format. One of: (%s).", strings.Join(f.allowedFormats(), ", ")))
	f.outputChanged = func() bool { return cmd.Flag("output").Changed }
}

// noPrinter is kubectl's error for an output format no printer takes.
func (f *printFlags) noPrinter() error {
	allowed := f.allowedFormats()
	sort.Strings(allowed)
	return fmt.Errorf("unable to match a printer suitable for the output format %q, allowed formats are: %s", f.output, strings.Join(allowed, ","))
}

// toPrinter returns the printer of the format (go-template when only --template is given).
func (f *printFlags) toPrinter() (printers.ResourcePrinter, error) {
	format := f.output
	if f.template != "" && (f.outputChanged == nil || !f.outputChanged()) {
		format = "go-template"
	}
	lower := strings.ToLower(format)
	switch {
	case slices.Contains(jsonYAMLFormats(), lower):
		return f.jsonYAML(lower), nil
	case lower == "name":
		return &printers.NamePrinter{ShortOutput: true}, nil
	case lower == "":
		return &printers.NamePrinter{}, nil
	}
	if p, ok, err := f.templatePrinter(format, jsonPathFormats(), f.jsonPath); ok {
		return p, err
	}
	if p, ok, err := f.templatePrinter(format, goTemplateFormats(), f.goTemplate); ok {
		return p, err
	}
	return nil, f.noPrinter()
}

func (f *printFlags) jsonYAML(format string) printers.ResourcePrinter {
	var p printers.ResourcePrinter
	switch format {
	case "json":
		p = &printers.JSONPrinter{}
	case "yaml":
		p = &printers.YAMLPrinter{}
	default:
		p = &printers.KYAMLPrinter{}
	}
	if !f.showManagedFields {
		p = &printers.OmitManagedFieldsPrinter{Delegate: p}
	}
	return p
}

// templatePrinter takes format when it is one of formats (or "<format>=<template>" without
// --template): ok is false when it is not.
func (f *printFlags) templatePrinter(format string, formats []string, build func(format, tmpl string) (printers.ResourcePrinter, error)) (printers.ResourcePrinter, bool, error) {
	tmpl := f.template
	if tmpl == "" {
		for _, name := range formats {
			if v, ok := strings.CutPrefix(format, name+"="); ok {
				format, tmpl = name, v
				break
			}
		}
	}
	if !slices.Contains(formats, format) {
		return nil, false, nil
	}
	if tmpl == "" {
		return nil, true, fmt.Errorf("template format specified but no template given")
	}
	if strings.HasSuffix(format, "-file") || format == "templatefile" {
		data, err := os.ReadFile(tmpl)
		if err != nil {
			return nil, true, fmt.Errorf("error reading --template %s, %v", tmpl, err)
		}
		tmpl = string(data)
	}
	p, err := build(format, tmpl)
	return p, true, err
}

func (f *printFlags) jsonPath(format, tmpl string) (printers.ResourcePrinter, error) {
	p, err := printers.NewJSONPathPrinter(tmpl)
	if err != nil {
		return nil, fmt.Errorf("error parsing jsonpath %s, %v", tmpl, err)
	}
	p.AllowMissingKeys(f.allowMissingKeys)
	p.EnableJSONOutput(format == "jsonpath-as-json")
	return p, nil
}

func (f *printFlags) goTemplate(_, tmpl string) (printers.ResourcePrinter, error) {
	p, err := printers.NewGoTemplatePrinter([]byte(tmpl))
	if err != nil {
		return nil, fmt.Errorf("error parsing template %s, %v", tmpl, err)
	}
	p.AllowMissingKeys(f.allowMissingKeys)
	return p, nil
}
