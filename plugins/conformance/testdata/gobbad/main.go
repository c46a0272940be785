// Command gobbad is a traffic-router plugin whose wire types are gob-incompatible with Argo's:
// TrafficRouting.Plugins is map[string]string instead of map[string][]byte (test data).
package main

import (
	"encoding/gob"
	"net/rpc"

	"github.com/hashicorp/go-plugin"

	"github.com/nerve-rollouts/nerve/plugins"
)

type badRouting struct{ Plugins map[string]string }

type badRollout struct {
	ObjectMeta struct{ Name, Namespace string }
	Spec       struct {
		Strategy struct {
			Canary *struct {
				CanaryService, StableService string
				TrafficRouting               *badRouting
			}
		}
	}
}

// gob allows one name per type, so each payload name gets its own type.
type (
	hashArgs struct {
		Rollout                badRollout
		CanaryHash, StableHash string
	}
	weightArgs struct {
		Rollout       badRollout
		DesiredWeight int32
	}
	headerArgs struct{ Rollout badRollout }
	mirrorArgs struct{ Rollout badRollout }
	removeArgs struct{ Rollout badRollout }
)

// server serves the 8 traffic-router methods with the bad types.
type server struct{}

func (server) InitPlugin(_ any, resp *plugins.RpcError) error { return nil }
func (server) Type(_ any, resp *string) error                 { *resp = "GobBad"; return nil }
func (server) UpdateHash(_ any, resp *plugins.RpcError) error { return nil }
func (server) SetWeight(_ any, resp *plugins.RpcError) error  { return nil }
func (server) SetHeaderRoute(_ any, resp *plugins.RpcError) error {
	return nil
}
func (server) SetMirrorRoute(_ any, resp *plugins.RpcError) error {
	return nil
}
func (server) VerifyWeight(_ any, resp *plugins.VerifyWeightResponse) error {
	resp.Verified = plugins.Verified
	return nil
}
func (server) RemoveManagedRoutes(_ any, resp *plugins.RpcError) error { return nil }

type glue struct{}

func (glue) Server(*plugin.MuxBroker) (any, error)              { return server{}, nil }
func (glue) Client(*plugin.MuxBroker, *rpc.Client) (any, error) { return nil, nil }

func main() {
	gob.RegisterName(plugins.GobUpdateHashArgs, new(hashArgs))
	gob.RegisterName(plugins.GobSetWeightAndVerifyWeightArgs, new(weightArgs))
	gob.RegisterName(plugins.GobSetHeaderArgs, new(headerArgs))
	gob.RegisterName(plugins.GobSetMirrorArgs, new(mirrorArgs))
	gob.RegisterName(plugins.GobRemoveManagedRoutesArgs, new(removeArgs))
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: plugins.Handshake(plugins.KindTrafficRouter),
		Plugins:         plugin.PluginSet{plugins.DispenseTrafficRouter: glue{}},
		Logger:          plugins.NewLogger("gobbad"),
	})
}
