package cli

import (
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/client-go/util/homedir"
)

// RESTClientGetter is what commands need of the kubeconfig flags.
type RESTClientGetter interface {
	// ToRESTConfig is the client config of the flags and the kubeconfig.
	ToRESTConfig() (*rest.Config, error)
	// ToRawKubeConfigLoader is the kubeconfig loader (namespace, raw config).
	ToRawKubeConfigLoader() clientcmd.ClientConfig
	// ToRESTMapper maps kinds to resources through the API server's discovery.
	ToRESTMapper() (meta.RESTMapper, error)
}

// ConfigFlags are kubectl's standard client flags (--kubeconfig, --context, -n, --as, ...): the
// flag set of cli-runtime's genericclioptions.NewConfigFlags, the same names, shorthands,
// defaults and help, bound to a clientcmd loader. They are nerve's own because genericclioptions
// links cli-runtime's resource builder and client-go's discovery, and with them every built-in
// API group.
type ConfigFlags struct {
	KubeConfig           *string
	CacheDir             *string
	CertFile             *string
	KeyFile              *string
	BearerToken          *string
	Impersonate          *string
	ImpersonateUID       *string
	ImpersonateGroup     *[]string
	ImpersonateUserExtra *[]string
	ClusterName          *string
	AuthInfoName         *string
	Namespace            *string
	Context              *string
	APIServer            *string
	TLSServerName        *string
	Insecure             *bool
	CAFile               *string
	Timeout              *string
	DisableCompression   *bool
	ProxyURL             *string

	persistent bool
	mu         sync.Mutex
	loader     clientcmd.ClientConfig
}

// NewConfigFlags returns the flags with kubectl's defaults. With persistent, the kubeconfig is
// loaded once and every later call sees that load.
func NewConfigFlags(persistent bool) *ConfigFlags {
	s := func(v string) *string { return &v }
	groups, extras := []string{}, []string{}
	insecure, noCompression := false, false
	return &ConfigFlags{
		KubeConfig: s(""), CacheDir: s(defaultCacheDir()), CertFile: s(""), KeyFile: s(""), BearerToken: s(""),
		Impersonate: s(""), ImpersonateUID: s(""), ImpersonateGroup: &groups, ImpersonateUserExtra: &extras,
		ClusterName: s(""), AuthInfoName: s(""), Namespace: s(""), Context: s(""), APIServer: s(""),
		TLSServerName: s(""), Insecure: &insecure, CAFile: s(""), Timeout: s("0"), DisableCompression: &noCompression,
		ProxyURL: s(""), persistent: persistent,
	}
}

// defaultCacheDir is $KUBECACHEDIR, else ~/.kube/cache.
func defaultCacheDir() string {
	if d := os.Getenv("KUBECACHEDIR"); d != "" {
		return d
	}
	return filepath.Join(homedir.HomeDir(), ".kube", "cache")
}

// stringFlag is one string flag of the set.
type stringFlag struct {
	p                 *string
	name, short, help string
}

// AddFlags adds the flags (each one whose field is not nil) to fs, in kubectl's order.
func (f *ConfigFlags) AddFlags(fs *pflag.FlagSet) {
	str := func(flags ...stringFlag) {
		for _, fl := range flags {
			if fl.p != nil {
				fs.StringVarP(fl.p, fl.name, fl.short, *fl.p, fl.help)
			}
		}
	}
	str(stringFlag{f.KubeConfig, "kubeconfig", "", "Path to the kubeconfig file to use for CLI requests."},
		stringFlag{f.CacheDir, "cache-dir", "", "Default cache directory"},
		stringFlag{f.CertFile, "client-certificate", "", "Path to a client certificate file for TLS"},
		stringFlag{f.KeyFile, "client-key", "", "Path to a client key file for TLS"},
		stringFlag{f.BearerToken, "token", "", "Bearer token for authentication to the API server"},
		stringFlag{f.Impersonate, "as", "", "Username to impersonate for the operation. User could be a regular user or a service account in a namespace."},
		stringFlag{f.ImpersonateUID, "as-uid", "", "UID to impersonate for the operation."})
	if f.ImpersonateGroup != nil {
		fs.StringArrayVar(f.ImpersonateGroup, "as-group", *f.ImpersonateGroup, "Group to impersonate for the operation, this flag can be repeated to specify multiple groups.")
	}
	if f.ImpersonateUserExtra != nil {
		fs.StringArrayVar(f.ImpersonateUserExtra, "as-user-extra", *f.ImpersonateUserExtra, "User extras to impersonate for the operation, this flag can be repeated to specify multiple values for the same key.")
	}
	str(stringFlag{f.ClusterName, "cluster", "", "The name of the kubeconfig cluster to use"},
		stringFlag{f.AuthInfoName, "user", "", "The name of the kubeconfig user to use"},
		stringFlag{f.Namespace, "namespace", "n", "If present, the namespace scope for this CLI request"},
		stringFlag{f.Context, "context", "", "The name of the kubeconfig context to use"},
		stringFlag{f.APIServer, "server", "s", "The address and port of the Kubernetes API server"},
		stringFlag{f.TLSServerName, "tls-server-name", "", "Server name to use for server certificate validation. If it is not provided, the hostname used to contact the server is used"})
	if f.Insecure != nil {
		fs.BoolVar(f.Insecure, "insecure-skip-tls-verify", *f.Insecure, "If true, the server's certificate will not be checked for validity. This will make your HTTPS connections insecure")
	}
	str(stringFlag{f.CAFile, "certificate-authority", "", "Path to a cert file for the certificate authority"},
		stringFlag{f.Timeout, "request-timeout", "", "The length of time to wait before giving up on a single server request. Non-zero values should contain a corresponding time unit (e.g. 1s, 2m, 3h). A value of zero means don't timeout requests."})
	if f.DisableCompression != nil {
		fs.BoolVar(f.DisableCompression, "disable-compression", *f.DisableCompression, "If true, opt-out of response compression for all requests to the server")
	}
	str(stringFlag{f.ProxyURL, "proxy-url", "", "Proxy URL to use for requests to the API server"})
}

// ToRawKubeConfigLoader is the loader of the kubeconfig (--kubeconfig, else $KUBECONFIG, else
// ~/.kube/config) with the flags as overrides.
func (f *ConfigFlags) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	if !f.persistent {
		return f.newLoader()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.loader == nil {
		f.loader = f.newLoader()
	}
	return f.loader
}

// ToRESTConfig is the client config of the kubeconfig and the flags.
func (f *ConfigFlags) ToRESTConfig() (*rest.Config, error) {
	return f.ToRawKubeConfigLoader().ClientConfig()
}

// ToRESTMapper maps kinds to resources with the API server's discovery.
func (f *ConfigFlags) ToRESTMapper() (meta.RESTMapper, error) {
	cfg, err := f.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	k, err := newKube(cfg)
	if err != nil {
		return nil, err
	}
	return newDiscoveryMapper(k.Resources), nil
}

func (f *ConfigFlags) newLoader() clientcmd.ClientConfig {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.DefaultClientConfig = &clientcmd.DefaultClientConfig
	if f.KubeConfig != nil {
		rules.ExplicitPath = *f.KubeConfig
	}
	o := &clientcmd.ConfigOverrides{ClusterDefaults: clientcmd.ClusterDefaults}
	f.authOverrides(&o.AuthInfo)
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&o.ClusterInfo.Server, f.APIServer)
	set(&o.ClusterInfo.TLSServerName, f.TLSServerName)
	set(&o.ClusterInfo.CertificateAuthority, f.CAFile)
	if f.Insecure != nil {
		o.ClusterInfo.InsecureSkipTLSVerify = *f.Insecure
	}
	if f.DisableCompression != nil {
		o.ClusterInfo.DisableCompression = *f.DisableCompression
	}
	set(&o.ClusterInfo.ProxyURL, f.ProxyURL)
	set(&o.CurrentContext, f.Context)
	set(&o.Context.Cluster, f.ClusterName)
	set(&o.Context.AuthInfo, f.AuthInfoName)
	set(&o.Context.Namespace, f.Namespace)
	set(&o.Timeout, f.Timeout)
	return emptyConfigLoader{clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, o)}
}

// authOverrides binds the credential and impersonation flags.
func (f *ConfigFlags) authOverrides(a *clientcmdapi.AuthInfo) {
	if f.CertFile != nil {
		a.ClientCertificate, a.ClientCertificateData = *f.CertFile, nil
	}
	if f.KeyFile != nil {
		a.ClientKey, a.ClientKeyData = *f.KeyFile, nil
	}
	if f.BearerToken != nil {
		a.Token, a.TokenFile = *f.BearerToken, ""
	}
	if f.Impersonate != nil {
		a.Impersonate = *f.Impersonate
	}
	if f.ImpersonateUserExtra != nil && len(*f.ImpersonateUserExtra) > 0 {
		extra := map[string][]string{}
		for _, kv := range *f.ImpersonateUserExtra {
			if k, v, ok := strings.Cut(kv, "="); ok {
				extra[k] = append(extra[k], v)
			}
		}
		a.ImpersonateUserExtra = extra
	}
	if f.ImpersonateUID != nil {
		a.ImpersonateUID = *f.ImpersonateUID
	}
	if f.ImpersonateGroup != nil {
		a.ImpersonateGroups = *f.ImpersonateGroup
	}
}

// emptyConfigMessage is kubectl's error for a missing or empty kubeconfig.
const emptyConfigMessage = `Missing or incomplete configuration info.  Please point to an existing, complete config file:


  1. Via the command-line flag --kubeconfig
  2. Via the KUBECONFIG environment variable
  3. In your home directory as ~/.kube/config

To view or setup config directly use the 'config' command.`

// emptyConfigLoader answers kubectl's error when the kubeconfig is missing or empty.
type emptyConfigLoader struct{ inner clientcmd.ClientConfig }

func emptyConfig(err error) error {
	if clientcmd.IsEmptyConfig(err) {
		return clientcmd.NewEmptyConfigError(emptyConfigMessage)
	}
	return err
}

// RawConfig implements clientcmd.ClientConfig.
func (l emptyConfigLoader) RawConfig() (clientcmdapi.Config, error) {
	c, err := l.inner.RawConfig()
	return c, emptyConfig(err)
}

// ClientConfig implements clientcmd.ClientConfig.
func (l emptyConfigLoader) ClientConfig() (*rest.Config, error) {
	c, err := l.inner.ClientConfig()
	return c, emptyConfig(err)
}

// Namespace implements clientcmd.ClientConfig.
func (l emptyConfigLoader) Namespace() (string, bool, error) {
	ns, explicit, err := l.inner.Namespace()
	return ns, explicit, emptyConfig(err)
}

// ConfigAccess implements clientcmd.ClientConfig.
func (l emptyConfigLoader) ConfigAccess() clientcmd.ConfigAccess { return l.inner.ConfigAccess() }
