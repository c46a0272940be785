package app

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/plugins/host"
	"github.com/nerve-rollouts/nerve/rollout/kube"
)

// ConfigMapName is Argo's controller ConfigMap holding the plugin registry.
const ConfigMapName = host.ConfigMapName

// registryWatcher feeds the plugin host from the ConfigMap (watched: every change is applied
// without a restart) plus the plugin directory.
type registryWatcher struct {
	host     *host.Host
	dir      host.Registry
	onChange func()
}

func (w *registryWatcher) apply(ctx context.Context, cm *corev1.ConfigMap) {
	logger := klog.FromContext(ctx)
	reg := host.Registry{}
	if cm != nil {
		parsed, err := host.ParseConfigMap(cm.Data)
		if err != nil {
			logger.Error(err, "invalid plugin registry in ConfigMap; keeping the directory plugins only", "configmap", ConfigMapName)
		} else {
			reg = parsed
		}
	}
	reg.TrafficRouters = append(reg.TrafficRouters, w.dir.TrafficRouters...)
	reg.MetricProviders = append(reg.MetricProviders, w.dir.MetricProviders...)
	w.host.SetRegistry(reg)
	logger.Info("plugin registry loaded", "trafficRouters", names(reg.Entries(plugins.KindTrafficRouter)),
		"metricProviders", names(reg.Entries(plugins.KindMetricProvider)))
	if w.onChange != nil {
		w.onChange()
	}
}

func names(es []host.Entry) []string {
	out := make([]string, 0, len(es))
	for _, e := range es {
		out = append(out, e.Name)
	}
	return out
}

// watchRegistry starts an informer on the single ConfigMap and applies the registry on every
// add, update and delete (a missing ConfigMap is an empty registry). It returns once synced.
func watchRegistry(ctx context.Context, client *kube.Client, ns string, w *registryWatcher) error {
	sel := fields.OneTermEqualSelector("metadata.name", ConfigMapName).String()
	inf := cache.NewSharedIndexInformer(client.ConfigMaps.ListWatch(ns, kube.Selectors{Field: sel},
		func() runtime.Object { return &corev1.ConfigMapList{} }),
		&corev1.ConfigMap{}, 0, cache.Indexers{})
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { w.apply(ctx, o.(*corev1.ConfigMap)) },
		UpdateFunc: func(_, o any) { w.apply(ctx, o.(*corev1.ConfigMap)) },
		DeleteFunc: func(any) { w.apply(ctx, nil) },
	})
	if err != nil {
		return err
	}
	go inf.RunWithContext(ctx)
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return fmt.Errorf("ConfigMap %s/%s informer did not sync", ns, ConfigMapName)
	}
	if len(inf.GetStore().List()) == 0 {
		w.apply(ctx, nil)
	}
	return nil
}
