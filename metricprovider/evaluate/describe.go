package evaluate

import (
	"fmt"
	"strings"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// Describe words an evaluation for a measurement message: "value <text>", then each set
// condition with its outcome ("; successCondition "…" is true"). Providers append the phase and
// their own notes.
func Describe(b *strings.Builder, m v1alpha1.Metric, text string, out Outcome) {
	fmt.Fprintf(b, "value %s", text)
	if m.SuccessCondition != "" {
		fmt.Fprintf(b, "; successCondition %q is %t", m.SuccessCondition, out.Success)
	}
	if m.FailureCondition != "" {
		fmt.Fprintf(b, "; failureCondition %q is %t", m.FailureCondition, out.Failure)
	}
}
