package dashboard

import (
	"context"
	"fmt"
	"sync"
	"time"

	authv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/actions"
)

// accessTTL is how long an access review answer is reused.
const accessTTL = 20 * time.Second

// Reviewer answers SelfSubjectAccessReviews (client-go's typed client has this method; kubectl
// nerve's lean client implements it too).
type Reviewer interface {
	Create(ctx context.Context, r *authv1.SelfSubjectAccessReview, opts metav1.CreateOptions) (*authv1.SelfSubjectAccessReview, error)
}

// access asks the API server, through SelfSubjectAccessReviews, whether the dashboard's user may
// patch a rollout (and its status), and remembers the answers for accessTTL.
type access struct {
	reviews Reviewer
	now     func() time.Time

	mu    sync.Mutex
	cache map[accessKey]accessAnswer
}

type accessKey struct{ verb, ns, name, sub string }

type accessAnswer struct {
	allowed bool
	at      time.Time
}

func newAccess(reviews Reviewer, now func() time.Time) *access {
	return &access{reviews: reviews, now: now, cache: map[accessKey]accessAnswer{}}
}

// allowed reports whether the user may verb the rollout ns/name (sub: "" or "status"); name ""
// asks about every rollout of ns, ns "" about every namespace.
func (a *access) allowed(ctx context.Context, verb, ns, name, sub string) (bool, error) {
	k := accessKey{verb, ns, name, sub}
	a.mu.Lock()
	ans, ok := a.cache[k]
	a.mu.Unlock()
	if ok && a.now().Sub(ans.at) < accessTTL {
		return ans.allowed, nil
	}
	r, err := a.reviews.Create(ctx, &authv1.SelfSubjectAccessReview{Spec: authv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authv1.ResourceAttributes{Namespace: ns, Verb: verb, Group: v1alpha1.Group,
			Resource: v1alpha1.RolloutResource, Subresource: sub, Name: name},
	}}, metav1.CreateOptions{})
	if err != nil {
		return false, fmt.Errorf("access review %s rollouts/%s %s/%s: %w", verb, sub, ns, name, err)
	}
	a.mu.Lock()
	a.cache[k] = accessAnswer{r.Status.Allowed, a.now()}
	a.mu.Unlock()
	return r.Status.Allowed, nil
}

// mayRun reports whether the user may send action n to ns/name: patch on every subresource it
// touches.
func (a *access) mayRun(ctx context.Context, n actions.Name, ns, name string) (bool, error) {
	for _, sub := range n.Subresources() {
		ok, err := a.allowed(ctx, "patch", ns, name, sub)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}
