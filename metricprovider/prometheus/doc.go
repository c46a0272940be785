// Package prometheus is nerve's Prometheus metric provider: an Argo Rollouts compatible
// implementation of plugins.MetricProvider that runs a PromQL query, maps the result exactly as
// Argo's built-in provider does and evaluates successCondition/failureCondition with the same
// expr-lang environment and truth table, so an AnalysisTemplate behaves the same under Argo's
// controller (loading the nerve-prometheus plugin binary) and under nerve's loop.
//
// # Where the config comes from
//
// The provider reads its config from metric.provider.plugin[<name>] (name defaults to
// nerve/prometheus and is set with the plugin binary's --name flag). It also accepts a metric
// whose built-in provider.prometheus block is set, so the seed's templates work unchanged; a
// plugin block wins when both are present. The config is Argo's provider.prometheus shape plus a
// few nerve-only fields (marked "nerve" below). Unknown fields are rejected with an error naming
// the field (Argo ignores them silently, which hides typos such as "emptyresult").
//
//	address         Prometheus base URL (http(s)://host:port[/prefix]). Empty: the
//	                ARGO_ROLLOUTS_PROMETHEUS_ADDRESS environment variable, as in Argo.
//	query           the PromQL query ({{args.x}} is already substituted by the controller).
//	timeout         query timeout in whole seconds (default 30; negative is an error). Argo turns
//	                an explicit 0 into an immediately expiring context; nerve treats 0 as the default.
//	insecure        skip TLS certificate verification.
//	headers         [{key, value}] extra HTTP headers; nerve also accepts valueFile / valueEnv
//	                instead of value (read at every measurement, so rotated secrets are picked up).
//	authentication  at most one of:
//	  basicAuth     {username, password} as in Argo; nerve adds usernameFile, usernameEnv,
//	                passwordFile, passwordEnv. Username and password are both required.
//	  oauth2        {tokenUrl, clientId, clientSecret, scopes} client-credentials flow as in Argo;
//	                nerve adds clientSecretFile, clientSecretEnv.
//	  bearer        (nerve) {token | tokenFile | tokenEnv}: "Authorization: Bearer <token>".
//	  sigv4         accepted by the schema but rejected: nerve does not sign AWS requests.
//	rangeQuery      {start, end, step}: run a range query; start and end are expr expressions that
//	                return a time (e.g. "now() - duration('5m')"), step a Go duration. The matrix
//	                result is flattened into one []float64 (all samples of all series) as in Argo.
//	emptyResult     (nerve) policy for a result without samples: "" (default, Argo's behaviour:
//	                the conditions decide), "inconclusive", "failed" or "error".
//	nanResult       (nerve) policy for a result containing NaN (scalar NaN or any NaN sample),
//	                same values as emptyResult.
//
// Secrets from files are trimmed of surrounding white space; a named environment variable that is
// unset or empty is an error, never an empty credential. Each secret has exactly one source.
//
// # Result mapping (as Argo)
//
// A scalar becomes result = float64; an instant vector becomes result = []float64 (one element
// per series, so conditions use result[0]); a matrix from a rangeQuery is flattened into
// []float64. Measurement.Value is the scalar's value ("0.5", "NaN") or the list "[0.0012,0.5]".
// Warnings from Prometheus are stored in Measurement.Metadata["warnings"] as Argo does.
// A string result, or a matrix from an instant query (e.g. "rate(x[5m])[10m:]"), is an Error
// measurement with a message that says so (Argo flattens such a matrix silently).
//
// # Conditions (as Argo)
//
// The expr environment is result, asInt, asFloat, isNaN, isInf, isNil and default, with Argo's
// semantics (isNil and default look at the measured value, not at their argument; an empty vector
// is not nil). Truth table: neither condition set → Successful; only successCondition set → not
// success = Failed; only failureCondition set → not failure = Successful; failure true → Failed;
// both set and neither true → Inconclusive. An evaluation error is an Error measurement
// "could not evaluate successCondition ...", with Argo's "metric result is nil or empty" text for
// an empty result (so result[0] on an empty vector is an Error, counted against
// consecutiveErrorLimit).
//
// # What Argo does with no data, and where nerve is safer
//
// Argo: an empty vector with result[0] is an Error (after consecutiveErrorLimit+1 in a row, the
// run errors and the rollout aborts); with "len(result) == 0 || ..." or with only a
// failureCondition guarded by len(result) > 0 it is Successful. NaN compares false, so with only
// successCondition it is Failed, with both conditions it is Inconclusive and with only a
// failureCondition it is Successful: a canary with no traffic passes. nerve keeps these defaults
// for compatibility and adds the opt-in emptyResult/nanResult policies, which decide the phase
// before the conditions run. The measurement message always shows the value, each condition with
// its outcome and the resolved query (white space folded), so a user can see why a measurement
// ended as it did; a Successful/Failed/Inconclusive decided on an empty or NaN result without a
// policy carries a "note:" saying so.
//
// Resume returns the measurement unchanged (the provider is synchronous: Run always finishes).
// Terminate returns a finished measurement unchanged and, should it get an unfinished one,
// finishes it as Inconclusive with "Metric Terminated" (never Successful). GarbageCollect is a
// no-op. GetMetadata returns {"ResolvedPrometheusQuery": query}.
package prometheus
