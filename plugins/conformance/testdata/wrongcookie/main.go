// Command wrongcookie is a go-plugin plugin with a foreign magic cookie (test data).
package main

import (
	"context"

	"github.com/hashicorp/go-plugin"

	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/plugins/conformance/testdata/testimpl"
)

func main() {
	b := testimpl.Flags()
	plugins.RegisterGobNames()
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: plugin.HandshakeConfig{ProtocolVersion: 1, MagicCookieKey: "SOME_OTHER_PLUGIN", MagicCookieValue: "other"},
		Plugins: plugin.PluginSet{plugins.DispenseTrafficRouter: &plugins.TrafficRouterPlugin{
			Impl: testimpl.NewRouter(b), Ctx: context.Background()}},
		Logger: plugins.NewLogger("wrongcookie"),
	})
}
