// Command router is a traffic-router plugin served with Argo v1.10.0's own RPC server types; it
// echoes every call's arguments (Argo-typed, as JSON) to --echo. Interop test data.
package main

import (
	"flag"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/argoproj/argo-rollouts/rollout/trafficrouting/plugin/rpc"
	"github.com/argoproj/argo-rollouts/utils/plugin/types"
	goPlugin "github.com/hashicorp/go-plugin"

	"github.com/nerve-rollouts/nerve/interop/argoplugins"
)

type router struct{ echo *argoplugins.Echo }

func (r *router) rec(method string, args any) types.RpcError {
	return types.RpcError{ErrorString: r.echo.Record(method, args)}
}

func (r *router) InitPlugin() types.RpcError { return r.rec("InitPlugin", nil) }
func (r *router) UpdateHash(ro *v1alpha1.Rollout, c, s string, add []v1alpha1.WeightDestination) types.RpcError {
	return r.rec("UpdateHash", rpc.UpdateHashArgs{Rollout: *ro, CanaryHash: c, StableHash: s, AdditionalDestinations: add})
}
func (r *router) SetWeight(ro *v1alpha1.Rollout, w int32, add []v1alpha1.WeightDestination) types.RpcError {
	return r.rec("SetWeight", rpc.SetWeightAndVerifyWeightArgs{Rollout: *ro, DesiredWeight: w, AdditionalDestinations: add})
}
func (r *router) SetHeaderRoute(ro *v1alpha1.Rollout, h *v1alpha1.SetHeaderRoute) types.RpcError {
	return r.rec("SetHeaderRoute", rpc.SetHeaderArgs{Rollout: *ro, SetHeaderRoute: *h})
}
func (r *router) SetMirrorRoute(ro *v1alpha1.Rollout, m *v1alpha1.SetMirrorRoute) types.RpcError {
	return r.rec("SetMirrorRoute", rpc.SetMirrorArgs{Rollout: *ro, SetMirrorRoute: *m})
}
func (r *router) VerifyWeight(ro *v1alpha1.Rollout, w int32, add []v1alpha1.WeightDestination) (types.RpcVerified, types.RpcError) {
	return types.Verified, r.rec("VerifyWeight", rpc.SetWeightAndVerifyWeightArgs{Rollout: *ro, DesiredWeight: w, AdditionalDestinations: add})
}
func (r *router) RemoveManagedRoutes(ro *v1alpha1.Rollout) types.RpcError {
	return r.rec("RemoveManagedRoutes", rpc.RemoveManagedRoutesArgs{Rollout: *ro})
}
func (r *router) Type() string { return "ArgoEchoRouter" }

func main() {
	path := flag.String("echo", "", "file to append calls to")
	flag.Parse()
	goPlugin.Serve(&goPlugin.ServeConfig{
		HandshakeConfig: goPlugin.HandshakeConfig{ProtocolVersion: 1, MagicCookieKey: "ARGO_ROLLOUTS_RPC_PLUGIN", MagicCookieValue: "trafficrouter"},
		Plugins:         map[string]goPlugin.Plugin{"RpcTrafficRouterPlugin": &rpc.RpcTrafficRouterPlugin{Impl: &router{echo: &argoplugins.Echo{Path: *path}}}},
	})
}
