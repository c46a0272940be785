package kube

import (
	"fmt"
	"net/http"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/flowcontrol"
)

// NewScheme returns a scheme holding the meta/v1 options every group-version serves and the
// groups adds registers.
func NewScheme(adds ...func(*runtime.Scheme) error) (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	metav1.AddToGroupVersion(s, schema.GroupVersion{Version: "v1"})
	for _, add := range adds {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Builder makes REST clients and Resources that share one HTTP client (and so its
// connections), one scheme and one field manager.
type Builder struct {
	cfg          *rest.Config
	hc           *http.Client
	codecs       serializer.CodecFactory
	params       runtime.ParameterCodec
	fieldManager string
}

// NewBuilder returns a Builder for cfg whose objects are the kinds scheme registers. Every
// create, update and patch carries fieldManager (none when empty).
func NewBuilder(cfg *rest.Config, scheme *runtime.Scheme, fieldManager string) (*Builder, error) {
	// the user agent goes into the HTTP client's transport, so it is defaulted before that is
	// built (as the typed clientset does)
	if cfg.UserAgent == "" {
		cfg = rest.CopyConfig(cfg)
		cfg.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes HTTP client: %w", err)
	}
	return &Builder{cfg: cfg, hc: hc, codecs: serializer.NewCodecFactory(scheme), params: runtime.NewParameterCodec(scheme),
		fieldManager: fieldManager}, nil
}

// Limiter is a new token bucket of the config's QPS and Burst (nil when the config carries its
// own limiter or no QPS). REST clients given the same limiter share it, as the groups of a typed
// clientset do.
func (b *Builder) Limiter() flowcontrol.RateLimiter {
	if b.cfg.RateLimiter != nil || b.cfg.QPS <= 0 {
		return b.cfg.RateLimiter
	}
	return flowcontrol.NewTokenBucketRateLimiter(b.cfg.QPS, b.cfg.Burst)
}

// REST returns a REST client for gv served under apiPath ("/api" for core/v1, else "/apis"),
// limited by limiter.
func (b *Builder) REST(gv schema.GroupVersion, apiPath string, limiter flowcontrol.RateLimiter) (*rest.RESTClient, error) {
	c := rest.CopyConfig(b.cfg)
	c.GroupVersion = &gv
	c.APIPath = apiPath
	c.NegotiatedSerializer = b.codecs.WithoutConversion()
	c.RateLimiter = limiter
	rc, err := rest.RESTClientForConfigAndClient(c, b.hc)
	if err != nil {
		return nil, fmt.Errorf("%s REST client: %w", gv, err)
	}
	return rc, nil
}

// Resource returns the Resource name served by rc; protobuf (built-in kinds) prefers protobuf
// bodies when rc's config allows them, as the typed clientset does.
func (b *Builder) Resource(rc rest.Interface, name string, namespaced, protobuf bool) Resource {
	return Resource{rc: rc, params: b.params, name: name, namespaced: namespaced, protobuf: protobuf, fieldManager: b.fieldManager}
}
