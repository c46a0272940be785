package cli

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/view"
)

// clients are the API clients of one command run: the shared read side for reads, the raw
// clients for the writes (patch, set image, undo) and the watch.
type clients struct {
	dyn  dynamic.Interface
	kube *Kube
	ns   string
	read view.Reader
}

func (f *Factory) clients(needKube bool) (*clients, error) {
	ns, err := f.Namespace()
	if err != nil {
		return nil, err
	}
	dyn, err := f.Dynamic()
	if err != nil {
		return nil, err
	}
	c := &clients{dyn: dyn, ns: ns}
	if needKube {
		if c.kube, err = f.Kube(); err != nil {
			return nil, err
		}
	}
	c.read = view.Reader{Dynamic: c.dyn, Kube: c.kube.view(), Now: f.Now}
	return c, nil
}

func (c *clients) rollouts() dynamic.ResourceInterface {
	return c.dyn.Resource(v1alpha1.GroupVersionResource(v1alpha1.RolloutResource)).Namespace(c.ns)
}

// getRollout reads the named rollout of the namespace, as sent and typed.
func (c *clients) getRollout(ctx context.Context, name string) (*unstructured.Unstructured, *v1alpha1.Rollout, error) {
	return c.read.Get(ctx, c.ns, name)
}
