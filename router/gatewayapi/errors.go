package gatewayapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// ErrNotInitialized is wrapped when the Kubernetes clients could not be built.
var ErrNotInitialized = errors.New("gatewayAPI router not initialised")

// describeAPIError turns an API error about a route into a message that says what to fix.
func describeAPIError(err error, verb string, t target) error {
	if err == nil {
		return nil
	}
	resource := t.Kind.Resource() + "." + gatewayv1.GroupName
	switch {
	case apierrors.IsNotFound(err):
		if hasNoKind(err) {
			return fmt.Errorf("%s: the API server does not serve %s (install the Gateway API v1.6 standard CRDs): %w", t, resource, err)
		}
		return fmt.Errorf("%s not found: no %s named %q in namespace %q (set the plugin config's \"namespace\" when routes live outside the Rollout's namespace): %w", t, t.Kind, t.Name, t.Namespace, err)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("RBAC denied: cannot %s %s in namespace %q (the controller's service account needs get, list and patch on %s): %w", verb, resource, t.Namespace, resource, err)
	default:
		return fmt.Errorf("%s %s: %w", verb, t, err)
	}
}

// describeServiceError is describeAPIError for the Services of experiments.
func describeServiceError(err error, ns, name string) error {
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Errorf("additional destination Service %s/%s not found (the experiment's Service must exist before its weight is set): %w", ns, name, err)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("RBAC denied: cannot get services in namespace %q (the controller's service account needs get on services for experiment destinations): %w", ns, err)
	default:
		return fmt.Errorf("get Service %s/%s: %w", ns, name, err)
	}
}

// hasNoKind reports whether a NotFound error is about the resource type rather than the object.
func hasNoKind(err error) bool {
	var se apierrors.APIStatus
	if !errors.As(err, &se) {
		return false
	}
	return strings.Contains(se.Status().Message, "the server could not find the requested resource")
}

// isPatchTestFailure reports whether err may be a failed JSON patch "test" (the API server
// answers 422 for any patch that does not apply).
func isPatchTestFailure(err error) bool {
	var se apierrors.APIStatus
	if !errors.As(err, &se) {
		return false
	}
	return se.Status().Code == http.StatusUnprocessableEntity
}
