// Package job is nerve's Job metric provider: an Argo Rollouts compatible implementation of
// plugins.MetricProvider that takes Argo's provider.job config unchanged ({metadata, spec} with
// spec a batch/v1 JobSpec) and measures by running a Kubernetes Job: Complete is Successful,
// Failed is Failed.
//
// # Where the config comes from
//
// The provider reads metric.provider.plugin[<name>] (name defaults to nerve/job, set with the
// binary's --name flag); nerve's loop hands a built-in provider.job block to the plugin nerve/job
// in that form. A metric whose provider.job block is set directly is read too; a plugin block
// wins. Unknown fields are an error naming the field.
//
// # What it does (as Argo's job provider)
//
// Run creates the Job in the AnalysisRun's namespace, named <run uid>.<metric>.<n> where n is the
// number of measurements taken so far plus one (count + error + 1), the metric name shortened
// when the name would exceed 63 characters. The Job carries the config's labels and annotations
// plus Argo's: label analysisrun.argoproj.io/uid (also on the pod template), annotations
// analysisrun.argoproj.io/name, .../namespace and .../metric-name, and a controller owner
// reference to the AnalysisRun, so deleting the run deletes its Jobs. A Job of that name that
// already exists and is owned by the same run is adopted (a retried Run); one owned by another run
// is an Error. The measurement is Running with metadata job-name and job-namespace and ResumeAt
// now.
//
// Resume reads the Job: a Complete condition (status True) is Successful, Failed is Failed. While
// neither is set, a pod of the Job whose (init) container waits with ErrImagePull,
// ImagePullBackOff or InvalidImageName finishes the measurement as Inconclusive ("Pod p,
// container c has terminal error (...)"); otherwise the next ResumeAt is now + sqrt(2·elapsed)
// seconds, Argo's growing delay. Terminate deletes the Job (foreground propagation; already gone
// is fine) and finishes the measurement as Inconclusive (a measurement that already finished is
// returned unchanged). GarbageCollect deletes the oldest Jobs of
// the run and metric beyond limit (by creation time). Argo matches condition types regardless of
// their status and garbage-collects all Jobs of the run together; nerve requires status True and
// counts Jobs per metric, so two job metrics of one run never trim each other's Jobs.
//
// # Credentials and RBAC
//
// The binary reads KUBECONFIG (or ~/.kube/config), and the in-cluster service account when
// neither exists, on first use (InitPlugin, else the first call; a failure is retried on the next
// call). It needs create, get, list, delete on jobs (batch) and get, list on pods in the
// namespaces of the AnalysisRuns (manifests/controller/rbac.yaml).
package job
