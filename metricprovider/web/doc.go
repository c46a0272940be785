// Package web is nerve's web metric provider: an Argo Rollouts compatible implementation of
// plugins.MetricProvider that takes Argo's provider.web config unchanged, sends one HTTP request
// per measurement, picks the result out of the JSON answer with a Kubernetes JSONPath and judges
// it with Argo's successCondition/failureCondition evaluation (package metricprovider/evaluate,
// shared with the Prometheus provider), so an AnalysisTemplate behaves the same under Argo's
// controller (loading the nerve-web plugin binary) and under nerve's loop.
//
// # Where the config comes from
//
// The provider reads metric.provider.plugin[<name>] (name defaults to nerve/web and is set with
// the binary's --name flag); nerve's loop hands a built-in provider.web block to the plugin
// nerve/web in that form. A metric whose provider.web block is set directly is read too; a
// plugin block wins. {{args.x}} is substituted by the controller before the plugin sees the
// config. Unknown fields are an error naming the field (Argo ignores them silently).
//
//	url             the address (required; http or https).
//	method          GET (default), POST or PUT.
//	headers         [{key, value}] request headers (Set, so a repeated key keeps the last).
//	body            a string body (POST/PUT only).
//	jsonBody        a JSON body (POST/PUT only), sent with Content-Type: application/json.
//	timeoutSeconds  the request timeout; 0 or negative means Argo's default of 10 seconds.
//	jsonPath        a Kubernetes JSONPath template (k8s.io/client-go/util/jsonpath) selecting the
//	                result; default "{$}" (the whole document).
//	insecure        skip TLS certificate verification.
//	authentication  oauth2 {tokenUrl, clientId, clientSecret, scopes}: the client-credentials
//	                flow, as in Argo (tokenUrl set requires clientId and clientSecret). basicAuth
//	                and sigv4, which Argo's web provider ignores silently, are refused.
//
// # Result mapping (as Argo)
//
// A status outside 200–299 is an Error "received non 2xx response code: N". A body that is not
// JSON is Successful with the body as the value and the conditions not evaluated (Argo's rule; the
// message says so). Otherwise the JSONPath is evaluated: no match is an Error "Could not find
// JSONPath in body: ...", an empty match "result of web metric produced no value"; the first
// value found is the result (numbers are float64, objects map[string]any) and its JSON encoding
// is Measurement.Value. The conditions then decide with Argo's truth table; an evaluation error
// is an Error measurement with Argo's "could not evaluate ..." wording. Transport failures are
// Error measurements; a timeout names the limit and where it came from.
//
// Run always finishes the measurement. Resume and Terminate return it unchanged (as Argo: the
// provider is synchronous), GarbageCollect is a no-op and GetMetadata returns nothing. Response
// bodies are never logged (they may carry patient data).
package web
